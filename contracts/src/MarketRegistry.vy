# pragma version ~=0.4.3
"""
@title MarketRegistry
@notice Permissionless market registration against a bond in the core asset,
        an unbonding queue, and slashing / halting by a quorum of committee
        signatures (EIP-712). There is no owner: committee membership, the
        quorum, the minimum bonds and both delays change only through
        nonce'd GovernanceAction messages signed by a quorum of the current
        committee. The Vault reads the committee from here (`verify_quorum`).
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


# Market kinds.
KIND_SPOT: public(constant(uint8)) = 0
KIND_PERPETUAL: public(constant(uint8)) = 1
KIND_PREDICTION: public(constant(uint8)) = 2
N_KINDS: constant(uint8) = 3

# Market status. Unbonding is tracked by `withdrawable_at`, not by status, so a
# halted market stays visibly halted while it unbonds.
STATUS_ACTIVE: public(constant(uint8)) = 1
STATUS_CLOSED: public(constant(uint8)) = 2
STATUS_HALTED: public(constant(uint8)) = 3
STATUS_WITHDRAWN: public(constant(uint8)) = 4

# Slash status.
SLASH_NONE: public(constant(uint8)) = 0
SLASH_PENDING: public(constant(uint8)) = 1
SLASH_EXECUTED: public(constant(uint8)) = 2
SLASH_CANCELLED: public(constant(uint8)) = 3

# Governance actions (the `action` field of GovernanceAction).
ACTION_ADD_MEMBER: public(constant(uint8)) = 1
ACTION_REMOVE_MEMBER: public(constant(uint8)) = 2
ACTION_SET_QUORUM: public(constant(uint8)) = 3
ACTION_SET_UNBONDING_DELAY: public(constant(uint8)) = 4
ACTION_SET_SLASH_DELAY: public(constant(uint8)) = 5
ACTION_SET_MIN_BOND_SPOT: public(constant(uint8)) = 6
ACTION_SET_MIN_BOND_PERPETUAL: public(constant(uint8)) = 7
ACTION_SET_MIN_BOND_PREDICTION: public(constant(uint8)) = 8

BPS: constant(uint256) = 10_000
MAX_MEMBERS: constant(uint256) = 32
MIN_DELAY: constant(uint256) = 3_600  # 1 hour
MAX_DELAY: constant(uint256) = 365 * 86_400
DEFAULT_UNBONDING_DELAY: constant(uint256) = 7 * 86_400
DEFAULT_SLASH_DELAY: constant(uint256) = 48 * 3_600

SLASH_PROPOSAL_TYPEHASH: constant(bytes32) = keccak256(
    "SlashProposal(bytes32 caseId,uint256 marketId,uint256 fractionBps,address recipient,uint256 deadline)"
)
SLASH_CANCEL_TYPEHASH: constant(bytes32) = keccak256("SlashCancel(bytes32 caseId,uint256 deadline)")
HALT_MARKET_TYPEHASH: constant(bytes32) = keccak256(
    "HaltMarket(uint256 marketId,bytes32 reasonHash,uint256 deadline)"
)
GOVERNANCE_ACTION_TYPEHASH: constant(bytes32) = keccak256(
    "GovernanceAction(uint8 action,address account,uint256 value,uint256 nonce,uint256 deadline)"
)


struct Market:
    deployer: address
    kind: uint8
    status: uint8
    bond: uint256
    spec_hash: bytes32
    registered_at: uint256
    withdrawable_at: uint256  # 0 until an unbond is requested


struct Slash:
    market_id: uint256
    fraction_bps: uint256
    recipient: address
    executable_at: uint256
    status: uint8


event MarketRegistered:
    market_id: indexed(uint256)
    deployer: indexed(address)
    kind: uint8
    bond: uint256
    spec_hash: bytes32


event BondAdded:
    market_id: indexed(uint256)
    amount: uint256
    bond: uint256


event MarketClosed:
    market_id: indexed(uint256)


event UnbondRequested:
    market_id: indexed(uint256)
    withdrawable_at: uint256


event BondWithdrawn:
    market_id: indexed(uint256)
    deployer: indexed(address)
    amount: uint256


event SlashProposed:
    case_id: indexed(bytes32)
    market_id: indexed(uint256)
    fraction_bps: uint256
    recipient: address
    executable_at: uint256


event SlashExecuted:
    case_id: indexed(bytes32)
    market_id: indexed(uint256)
    amount: uint256
    recipient: address


event SlashCancelled:
    case_id: indexed(bytes32)
    market_id: indexed(uint256)


event MarketHalted:
    market_id: indexed(uint256)
    reason_hash: bytes32


event GovernanceExecuted:
    nonce: indexed(uint256)
    action: uint8
    account: address
    value: uint256


core_token: public(immutable(IERC20))

markets: public(HashMap[uint256, Market])
market_count: public(uint256)
slashes: public(HashMap[bytes32, Slash])
pending_slash_count: public(HashMap[uint256, uint256])
total_bonded: public(uint256)

members: public(DynArray[address, MAX_MEMBERS])
is_member: public(HashMap[address, bool])
quorum: public(uint256)
governance_nonce: public(uint256)
min_bond: public(HashMap[uint8, uint256])
unbonding_delay: public(uint256)
slash_delay: public(uint256)


@deploy
def __init__(
    core_token_: IERC20,
    committee: DynArray[address, MAX_MEMBERS],
    quorum_: uint256,
    min_bond_spot: uint256,
    min_bond_perpetual: uint256,
    min_bond_prediction: uint256,
):
    """
    @notice The deployer keeps no privilege: every later change needs quorum signatures.
    """
    assert core_token_.address != empty(address), "registry: core token is the zero address"
    eip712_domain_separator.__init__("ExchangeOS MarketRegistry", "1")
    core_token = core_token_
    for member: address in committee:
        self._add_member(member)
    assert quorum_ >= 1 and quorum_ <= len(committee), "registry: quorum must be between 1 and the committee size"
    self.quorum = quorum_
    self.min_bond[KIND_SPOT] = min_bond_spot
    self.min_bond[KIND_PERPETUAL] = min_bond_perpetual
    self.min_bond[KIND_PREDICTION] = min_bond_prediction
    self.unbonding_delay = DEFAULT_UNBONDING_DELAY
    self.slash_delay = DEFAULT_SLASH_DELAY


# ---------------------------------------------------------------- bonds


@external
def register_market(spec_hash: bytes32, kind: uint8, bond: uint256) -> uint256:
    """
    @notice Anyone registers a market by staking at least the kind's minimum bond.
    @dev Credits what actually arrived, so the bond always equals tokens held.
    """
    assert kind < N_KINDS, "registry: unknown market kind"
    assert spec_hash != empty(bytes32), "registry: spec hash is empty"
    assert bond > 0 and bond >= self.min_bond[kind], "registry: bond is below the minimum for this kind"
    received: uint256 = self._pull(msg.sender, bond)
    assert received >= self.min_bond[kind], "registry: bond is below the minimum for this kind"
    market_id: uint256 = self.market_count + 1
    self.market_count = market_id
    self.markets[market_id] = Market(
        deployer=msg.sender,
        kind=kind,
        status=STATUS_ACTIVE,
        bond=received,
        spec_hash=spec_hash,
        registered_at=block.timestamp,
        withdrawable_at=0,
    )
    self.total_bonded += received
    log MarketRegistered(market_id=market_id, deployer=msg.sender, kind=kind, bond=received, spec_hash=spec_hash)
    return market_id


@external
def add_bond(market_id: uint256, amount: uint256):
    """
    @notice The market's deployer tops up its bond (not after an unbond request).
    """
    market: Market = self._market(market_id)
    assert msg.sender == market.deployer, "registry: only the market's deployer can add bond"
    assert market.status != STATUS_WITHDRAWN, "registry: bond already withdrawn"
    assert market.withdrawable_at == 0, "registry: unbond already requested"
    assert amount > 0, "registry: amount is zero"
    received: uint256 = self._pull(msg.sender, amount)
    self.markets[market_id].bond = market.bond + received
    self.total_bonded += received
    log BondAdded(market_id=market_id, amount=received, bond=market.bond + received)


@external
def close_market(market_id: uint256):
    """
    @notice The market's deployer closes an active market.
    """
    market: Market = self._market(market_id)
    assert msg.sender == market.deployer, "registry: only the market's deployer can close it"
    assert market.status == STATUS_ACTIVE, "registry: market is not active"
    self.markets[market_id].status = STATUS_CLOSED
    log MarketClosed(market_id=market_id)


@external
def request_unbond(market_id: uint256):
    """
    @notice Starts the unbonding delay of a closed or halted market. The bond
            stays slashable until it is withdrawn.
    """
    market: Market = self._market(market_id)
    assert msg.sender == market.deployer, "registry: only the market's deployer can unbond"
    assert market.status == STATUS_CLOSED or market.status == STATUS_HALTED, "registry: market must be closed or halted to unbond"
    assert market.withdrawable_at == 0, "registry: unbond already requested"
    withdrawable_at: uint256 = block.timestamp + self.unbonding_delay
    self.markets[market_id].withdrawable_at = withdrawable_at
    log UnbondRequested(market_id=market_id, withdrawable_at=withdrawable_at)


@external
def withdraw_bond(market_id: uint256):
    """
    @notice Pays the remaining bond to the deployer once the unbonding delay has
            passed and no slash against the market is pending.
    """
    market: Market = self._market(market_id)
    assert msg.sender == market.deployer, "registry: only the market's deployer can withdraw"
    assert market.status != STATUS_WITHDRAWN, "registry: bond already withdrawn"
    assert market.withdrawable_at != 0, "registry: unbond not requested"
    assert block.timestamp >= market.withdrawable_at, "registry: unbonding delay has not passed"
    assert self.pending_slash_count[market_id] == 0, "registry: a slash against this market is pending"
    self.markets[market_id].status = STATUS_WITHDRAWN
    self.markets[market_id].bond = 0
    self.total_bonded -= market.bond
    if market.bond > 0:
        assert extcall core_token.transfer(market.deployer, market.bond, default_return_value=True), "registry: transfer failed"
    log BondWithdrawn(market_id=market_id, deployer=market.deployer, amount=market.bond)


# ---------------------------------------------------------------- slashing


@external
def propose_slash(
    case_id: bytes32,
    market_id: uint256,
    fraction_bps: uint256,
    recipient: address,
    deadline: uint256,
    signatures: DynArray[Bytes[65], MAX_MEMBERS],
):
    """
    @notice Records a slash that anyone can execute after the slash delay. Needs
            a quorum's SlashProposal signatures; a case id is usable once, ever.
    """
    assert block.timestamp <= deadline, "registry: signatures expired"
    assert self.slashes[case_id].status == SLASH_NONE, "registry: case already proposed"
    market: Market = self._market(market_id)
    assert market.status != STATUS_WITHDRAWN, "registry: bond already withdrawn"
    assert fraction_bps > 0 and fraction_bps <= BPS, "registry: fraction must be 1..10000 bps"
    assert recipient != empty(address), "registry: recipient is the zero address"
    self._check_quorum(self._slash_digest(case_id, market_id, fraction_bps, recipient, deadline), signatures)
    executable_at: uint256 = block.timestamp + self.slash_delay
    self.slashes[case_id] = Slash(
        market_id=market_id,
        fraction_bps=fraction_bps,
        recipient=recipient,
        executable_at=executable_at,
        status=SLASH_PENDING,
    )
    self.pending_slash_count[market_id] += 1
    log SlashProposed(
        case_id=case_id, market_id=market_id, fraction_bps=fraction_bps, recipient=recipient, executable_at=executable_at
    )


@external
def execute_slash(case_id: bytes32) -> uint256:
    """
    @notice Anyone executes a pending slash once its delay has passed; takes the
            fraction of the bond as it is now and pays it to the recipient.
    """
    slash: Slash = self.slashes[case_id]
    assert slash.status == SLASH_PENDING, "registry: slash is not pending"
    assert block.timestamp >= slash.executable_at, "registry: slash delay has not passed"
    bond: uint256 = self.markets[slash.market_id].bond
    amount: uint256 = bond * slash.fraction_bps // BPS
    self.slashes[case_id].status = SLASH_EXECUTED
    self.pending_slash_count[slash.market_id] -= 1
    self.markets[slash.market_id].bond = bond - amount
    self.total_bonded -= amount
    if amount > 0:
        assert extcall core_token.transfer(slash.recipient, amount, default_return_value=True), "registry: transfer failed"
    log SlashExecuted(case_id=case_id, market_id=slash.market_id, amount=amount, recipient=slash.recipient)
    return amount


@external
def cancel_slash(case_id: bytes32, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    """
    @notice A quorum cancels a pending slash before it is executed. The case id
            can never be proposed again.
    """
    assert block.timestamp <= deadline, "registry: signatures expired"
    slash: Slash = self.slashes[case_id]
    assert slash.status == SLASH_PENDING, "registry: slash is not pending"
    self._check_quorum(self._cancel_digest(case_id, deadline), signatures)
    self.slashes[case_id].status = SLASH_CANCELLED
    self.pending_slash_count[slash.market_id] -= 1
    log SlashCancelled(case_id=case_id, market_id=slash.market_id)


@external
def halt_market(
    market_id: uint256, reason_hash: bytes32, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]
):
    """
    @notice Immediate halt by quorum signatures. A halt is final, so a replayed
            halt signature finds nothing to do.
    """
    assert block.timestamp <= deadline, "registry: signatures expired"
    market: Market = self._market(market_id)
    assert market.status == STATUS_ACTIVE or market.status == STATUS_CLOSED, "registry: market is already halted or withdrawn"
    self._check_quorum(self._halt_digest(market_id, reason_hash, deadline), signatures)
    self.markets[market_id].status = STATUS_HALTED
    log MarketHalted(market_id=market_id, reason_hash=reason_hash)


# ---------------------------------------------------------------- governance


@external
def add_member(member: address, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    self._govern(ACTION_ADD_MEMBER, member, 0, deadline, signatures)
    self._add_member(member)


@external
def remove_member(member: address, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    self._govern(ACTION_REMOVE_MEMBER, member, 0, deadline, signatures)
    assert self.is_member[member], "registry: not a committee member"
    assert len(self.members) > self.quorum, "registry: removal would leave fewer members than the quorum"
    self.is_member[member] = False
    kept: DynArray[address, MAX_MEMBERS] = []
    for m: address in self.members:
        if m != member:
            kept.append(m)
    self.members = kept


@external
def set_quorum(new_quorum: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    self._govern(ACTION_SET_QUORUM, empty(address), new_quorum, deadline, signatures)
    assert new_quorum >= 1 and new_quorum <= len(self.members), "registry: quorum must be between 1 and the committee size"
    self.quorum = new_quorum


@external
def set_unbonding_delay(new_delay: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    self._govern(ACTION_SET_UNBONDING_DELAY, empty(address), new_delay, deadline, signatures)
    assert new_delay <= MAX_DELAY, "registry: delay is too long"
    assert new_delay >= self.slash_delay, "registry: unbonding delay must be at least the slash delay"
    self.unbonding_delay = new_delay


@external
def set_slash_delay(new_delay: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    self._govern(ACTION_SET_SLASH_DELAY, empty(address), new_delay, deadline, signatures)
    assert new_delay >= MIN_DELAY, "registry: delay is too short"
    assert new_delay <= self.unbonding_delay, "registry: slash delay must not exceed the unbonding delay"
    self.slash_delay = new_delay


@external
def set_min_bond(kind: uint8, amount: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert kind < N_KINDS, "registry: unknown market kind"
    self._govern(ACTION_SET_MIN_BOND_SPOT + kind, empty(address), amount, deadline, signatures)
    self.min_bond[kind] = amount


# ---------------------------------------------------------------- views


@external
@view
def verify_quorum(digest: bytes32, signatures: DynArray[Bytes[65], MAX_MEMBERS]) -> bool:
    """
    @notice Reverts unless `signatures` over `digest` come from a quorum of
            distinct current members in strictly increasing address order.
            The caller binds the digest to its own EIP-712 domain and nonce.
    """
    self._check_quorum(digest, signatures)
    return True


@external
@view
def member_count() -> uint256:
    return len(self.members)


@external
@view
def domain_separator() -> bytes32:
    return eip712_domain_separator._domain_separator_v4()


@external
@view
def slash_digest(
    case_id: bytes32, market_id: uint256, fraction_bps: uint256, recipient: address, deadline: uint256
) -> bytes32:
    return self._slash_digest(case_id, market_id, fraction_bps, recipient, deadline)


@external
@view
def cancel_digest(case_id: bytes32, deadline: uint256) -> bytes32:
    return self._cancel_digest(case_id, deadline)


@external
@view
def halt_digest(market_id: uint256, reason_hash: bytes32, deadline: uint256) -> bytes32:
    return self._halt_digest(market_id, reason_hash, deadline)


@external
@view
def governance_digest(action: uint8, account: address, value_: uint256, nonce: uint256, deadline: uint256) -> bytes32:
    return self._governance_digest(action, account, value_, nonce, deadline)


# ---------------------------------------------------------------- internals


@internal
@view
def _market(market_id: uint256) -> Market:
    market: Market = self.markets[market_id]
    assert market.deployer != empty(address), "registry: unknown market"
    return market


@internal
def _pull(sender: address, amount: uint256) -> uint256:
    before: uint256 = staticcall core_token.balanceOf(self)
    assert extcall core_token.transferFrom(sender, self, amount, default_return_value=True), "registry: transfer failed"
    return staticcall core_token.balanceOf(self) - before


@internal
def _add_member(member: address):
    assert member != empty(address), "registry: member is the zero address"
    assert not self.is_member[member], "registry: already a committee member"
    assert len(self.members) < MAX_MEMBERS, "registry: committee is full"
    self.is_member[member] = True
    self.members.append(member)


@internal
def _govern(action: uint8, account: address, value_: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert block.timestamp <= deadline, "registry: signatures expired"
    nonce: uint256 = self.governance_nonce
    self._check_quorum(self._governance_digest(action, account, value_, nonce, deadline), signatures)
    self.governance_nonce = nonce + 1
    log GovernanceExecuted(nonce=nonce, action=action, account=account, value=value_)


@internal
@view
def _check_quorum(digest: bytes32, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert len(signatures) >= self.quorum, "registry: not enough signatures for the quorum"
    previous: address = empty(address)
    for signature: Bytes[65] in signatures:
        assert len(signature) == 65, "registry: signature must be 65 bytes"
        signer: address = ecdsa._recover_sig(digest, signature)
        assert convert(signer, uint160) > convert(previous, uint160), "registry: signers must be in strictly increasing address order"
        assert self.is_member[signer], "registry: signer is not a committee member"
        previous = signer


@internal
@view
def _slash_digest(
    case_id: bytes32, market_id: uint256, fraction_bps: uint256, recipient: address, deadline: uint256
) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(SLASH_PROPOSAL_TYPEHASH, case_id, market_id, fraction_bps, recipient, deadline))
    )


@internal
@view
def _cancel_digest(case_id: bytes32, deadline: uint256) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(keccak256(abi_encode(SLASH_CANCEL_TYPEHASH, case_id, deadline)))


@internal
@view
def _halt_digest(market_id: uint256, reason_hash: bytes32, deadline: uint256) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(HALT_MARKET_TYPEHASH, market_id, reason_hash, deadline))
    )


@internal
@view
def _governance_digest(action: uint8, account: address, value_: uint256, nonce: uint256, deadline: uint256) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(GOVERNANCE_ACTION_TYPEHASH, action, account, value_, nonce, deadline))
    )
