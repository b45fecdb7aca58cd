"""Committee roster, cases, votes, decisions and slashing execution (arrives with the governance issues)."""
