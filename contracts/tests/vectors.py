"""Fixed EIP-712 vectors shared by the contract tests and tests/chain (app env): same inputs, same digests."""

CHAIN_ID = 31337
REGISTRY_ADDRESS = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
VAULT_ADDRESS = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ACCOUNT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CASE_ID = bytes.fromhex("00000000000000000000000000000000000000000000000000000000000004d2")  # case 1234
REASON_HASH = bytes.fromhex("11" * 32)
DEADLINE = 1_900_000_000

# (struct name, kwargs, domain: "registry" | "vault", expected digest hex)
VECTORS = [
    (
        "SlashProposal",
        {"case_id": CASE_ID, "market_id": 7, "fraction_bps": 2_500, "recipient": RECIPIENT, "deadline": DEADLINE},
        "registry",
        "0x29952c031529513ba96eff48887d95ff002d7b8dc826501153a4feb76d736e21",
    ),
    (
        "SlashCancel",
        {"case_id": CASE_ID, "deadline": DEADLINE},
        "registry",
        "0x984794c66c5b5be9eb0c677763a56e16068aecec09a7abab5372b3639731ffb3",
    ),
    (
        "HaltMarket",
        {"market_id": 7, "reason_hash": REASON_HASH, "deadline": DEADLINE},
        "registry",
        "0xd20a41d205fd07606c030dc275e9aeab187b7af30d58022ebc565ef073fae58c",
    ),
    (
        "GovernanceAction",
        {"action": 1, "account": RECIPIENT, "value": 0, "nonce": 3, "deadline": DEADLINE},
        "registry",
        "0x697170e334f318ded1fd070accbedb0fcd603f796fc8b4882e241353c5c6743d",
    ),
    (
        "GovernanceAction",
        {"action": 16, "account": ACCOUNT, "value": 0, "nonce": 0, "deadline": DEADLINE},
        "vault",
        "0x8a71e63dc96123663f9727c3438075a4a508d42f23fe92f63ba02c07ddc58216",
    ),
    (
        "WithdrawalAuthorization",
        {"account": ACCOUNT, "token": TOKEN, "amount": 123_450_000, "nonce": 42, "expiry": DEADLINE},
        "vault",
        "0x52ea51ea91dc7f90b8f831bfdee7f21c51db12ab9d695481d8642aa41d819d2b",
    ),
]

# A committee member's signature (anvil account 2) over the SlashProposal vector: RFC 6979, so fixed.
SIGNER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
SLASH_PROPOSAL_SIGNATURE = (
    "0xe73fde19f4ed79dd353d96dc3a4c8b7a551038c40390ccc1acfab3a16b0b7a58"
    "0254474eed97cffa7835b9780076cd26bf956c59f084fe132a3fe7d89f6e8b5e1b"
)

# Canonical JSON / spec hash (docs/contracts.md): a perpetual market's parameters.
SPEC = {
    "kind": "perpetual",
    "symbol": "BTC-USD",
    "quote_asset": "XUSD",
    "tick_size": 100,
    "lot_size": 1000,
    "min_size_lots": 1,
    "max_leverage_bps": 200000,
    "fees": {"maker_bps": -2, "taker_bps": 5},
    "oracle": {
        "type": "push",
        "min_interval_s": 1,
        "max_move_bps": 500,
        "signers": ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    },
    "access": {"policy": "open"},
    "isolated_only": True,
    "description": "Bitcoin perpetual \u2013 caf\u00e9",
    "expiry": None,
}
SPEC_CANONICAL = (
    '{"access":{"policy":"open"},"description":"Bitcoin perpetual \u2013 caf\u00e9","expiry":null,'
    '"fees":{"maker_bps":-2,"taker_bps":5},"isolated_only":true,"kind":"perpetual","lot_size":1000,'
    '"max_leverage_bps":200000,"min_size_lots":1,"oracle":{"max_move_bps":500,"min_interval_s":1,'
    '"signers":["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],"type":"push"},"quote_asset":"XUSD",'
    '"symbol":"BTC-USD","tick_size":100}'
).encode("utf-8")
SPEC_HASH = "0x137c90076603ab6e0b37319a92e0352ca92c5d502a1d27d23455e54000e94a1b"
