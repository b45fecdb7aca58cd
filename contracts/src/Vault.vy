# pragma version ~=0.4.3
"""
@title Vault
@notice Custody of trader collateral. Anyone deposits an allowed token; a
        withdrawal needs the operator's EIP-712 WithdrawalAuthorization bound to
        the account, token, amount, nonce, expiry, chain id and this vault, and
        pays only the account itself. Nothing moves a deposit anywhere else.
        The operator key and the allowed-token list change only by a quorum of
        the committee kept in the MarketRegistry (GovernanceAction messages
        signed for this vault's domain, with this vault's nonce).
"""

from ethereum.ercs import IERC20
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator

initializes: eip712_domain_separator

exports: eip712_domain_separator.eip712Domain


interface ICommittee:
    def verify_quorum(digest: bytes32, signatures: DynArray[Bytes[65], MAX_MEMBERS]) -> bool: view


MAX_MEMBERS: constant(uint256) = 32
MAX_INITIAL_TOKENS: constant(uint256) = 16

ACTION_SET_OPERATOR: public(constant(uint8)) = 16
ACTION_ALLOW_TOKEN: public(constant(uint8)) = 17
ACTION_DISALLOW_TOKEN: public(constant(uint8)) = 18

WITHDRAWAL_AUTHORIZATION_TYPEHASH: constant(bytes32) = keccak256(
    "WithdrawalAuthorization(address account,address token,uint256 amount,uint256 nonce,uint256 expiry)"
)
GOVERNANCE_ACTION_TYPEHASH: constant(bytes32) = keccak256(
    "GovernanceAction(uint8 action,address account,uint256 value,uint256 nonce,uint256 deadline)"
)


event Deposit:
    account: indexed(address)
    token: indexed(address)
    amount: uint256
    deposit_id: uint256


event Withdrawal:
    account: indexed(address)
    token: indexed(address)
    amount: uint256
    nonce: uint256


event OperatorChanged:
    old_operator: indexed(address)
    new_operator: indexed(address)


event TokenAllowed:
    token: indexed(address)
    allowed: bool


event GovernanceExecuted:
    nonce: indexed(uint256)
    action: uint8
    account: address
    value: uint256


committee: public(immutable(ICommittee))

operator: public(address)
is_token_allowed: public(HashMap[address, bool])
# Nonces are per account: the engine numbers each account's withdrawals 1, 2, 3, ...
nonce_used: public(HashMap[address, HashMap[uint256, bool]])
deposit_count: public(uint256)
total_deposited: public(HashMap[address, uint256])
total_withdrawn: public(HashMap[address, uint256])
governance_nonce: public(uint256)


@deploy
def __init__(committee_: ICommittee, operator_: address, allowed_tokens: DynArray[address, MAX_INITIAL_TOKENS]):
    """
    @notice The deployer keeps no privilege: the operator and the token list
            change only by committee quorum.
    """
    assert committee_.address != empty(address), "vault: committee is the zero address"
    assert operator_ != empty(address), "vault: operator is the zero address"
    eip712_domain_separator.__init__("ExchangeOS Vault", "1")
    committee = committee_
    self.operator = operator_
    log OperatorChanged(old_operator=empty(address), new_operator=operator_)
    for token: address in allowed_tokens:
        assert token != empty(address), "vault: token is the zero address"
        self.is_token_allowed[token] = True
        log TokenAllowed(token=token, allowed=True)


@external
@nonreentrant
def deposit(token: address, amount: uint256) -> uint256:
    """
    @notice Credits msg.sender with what actually arrived, so a fee-on-transfer
            token cannot inflate a deposit.
    @return The deposit id (sequential from 1).
    """
    assert self.is_token_allowed[token], "vault: token is not allowed"
    assert amount > 0, "vault: amount is zero"
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), "vault: transfer failed"
    received: uint256 = staticcall IERC20(token).balanceOf(self) - before
    assert received > 0, "vault: nothing arrived"
    deposit_id: uint256 = self.deposit_count + 1
    self.deposit_count = deposit_id
    self.total_deposited[token] += received
    log Deposit(account=msg.sender, token=token, amount=received, deposit_id=deposit_id)
    return deposit_id


@external
@nonreentrant
def withdraw(token: address, amount: uint256, nonce: uint256, expiry: uint256, signature: Bytes[65]):
    """
    @notice Pays `amount` of `token` to msg.sender, which must be the account the
            operator authorised. Each (account, nonce) works once. A token taken off the
            allowed list can still be withdrawn.
    """
    assert block.timestamp <= expiry, "vault: authorization expired"
    assert not self.nonce_used[msg.sender][nonce], "vault: nonce already used"
    assert amount > 0, "vault: amount is zero"
    assert len(signature) == 65, "vault: signature must be 65 bytes"
    signer: address = ecdsa._recover_sig(self._withdraw_digest(msg.sender, token, amount, nonce, expiry), signature)
    assert signer == self.operator, "vault: not authorised by the operator"
    self.nonce_used[msg.sender][nonce] = True
    self.total_withdrawn[token] += amount
    assert extcall IERC20(token).transfer(msg.sender, amount, default_return_value=True), "vault: transfer failed"
    log Withdrawal(account=msg.sender, token=token, amount=amount, nonce=nonce)


@external
def set_operator(new_operator: address, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert new_operator != empty(address), "vault: operator is the zero address"
    self._govern(ACTION_SET_OPERATOR, new_operator, 0, deadline, signatures)
    log OperatorChanged(old_operator=self.operator, new_operator=new_operator)
    self.operator = new_operator


@external
def set_token_allowed(token: address, allowed: bool, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert token != empty(address), "vault: token is the zero address"
    action: uint8 = ACTION_DISALLOW_TOKEN
    if allowed:
        action = ACTION_ALLOW_TOKEN
    self._govern(action, token, 0, deadline, signatures)
    self.is_token_allowed[token] = allowed
    log TokenAllowed(token=token, allowed=allowed)


@external
@view
def domain_separator() -> bytes32:
    return eip712_domain_separator._domain_separator_v4()


@external
@view
def withdraw_digest(account: address, token: address, amount: uint256, nonce: uint256, expiry: uint256) -> bytes32:
    return self._withdraw_digest(account, token, amount, nonce, expiry)


@external
@view
def governance_digest(action: uint8, account: address, value_: uint256, nonce: uint256, deadline: uint256) -> bytes32:
    return self._governance_digest(action, account, value_, nonce, deadline)


@internal
def _govern(action: uint8, account: address, value_: uint256, deadline: uint256, signatures: DynArray[Bytes[65], MAX_MEMBERS]):
    assert block.timestamp <= deadline, "vault: signatures expired"
    nonce: uint256 = self.governance_nonce
    assert staticcall committee.verify_quorum(
        self._governance_digest(action, account, value_, nonce, deadline), signatures
    ), "vault: committee quorum not reached"
    self.governance_nonce = nonce + 1
    log GovernanceExecuted(nonce=nonce, action=action, account=account, value=value_)


@internal
@view
def _withdraw_digest(account: address, token: address, amount: uint256, nonce: uint256, expiry: uint256) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(WITHDRAWAL_AUTHORIZATION_TYPEHASH, account, token, amount, nonce, expiry))
    )


@internal
@view
def _governance_digest(action: uint8, account: address, value_: uint256, nonce: uint256, deadline: uint256) -> bytes32:
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(GOVERNANCE_ACTION_TYPEHASH, action, account, value_, nonce, deadline))
    )
