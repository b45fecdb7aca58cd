"""Market specs, deployer wizard and dashboard, trading pages and API, and engine/ (the pure core)."""
