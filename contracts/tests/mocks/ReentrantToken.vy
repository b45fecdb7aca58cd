# pragma version ~=0.4.3
"""Test-only ERC-20 whose transfer/transferFrom call back into the vault (reentrancy probe)."""

interface IVault:
    def deposit(token: address, amount: uint256) -> uint256: nonpayable
    def withdraw(token: address, amount: uint256, nonce: uint256, expiry: uint256, signature: Bytes[65]): nonpayable

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
vault: public(address)
armed: public(bool)
attack_signature: Bytes[65]
attack_nonce: uint256
attack_expiry: uint256


@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount


@external
def arm(vault: address, nonce: uint256, expiry: uint256, signature: Bytes[65]):
    self.vault = vault
    self.armed = True
    self.attack_nonce = nonce
    self.attack_expiry = expiry
    self.attack_signature = signature


@internal
def _reenter():
    if self.armed:
        self.armed = False
        extcall IVault(self.vault).withdraw(self, 1, self.attack_nonce, self.attack_expiry, self.attack_signature)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    self._reenter()
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    self.allowance[sender][msg.sender] -= amount
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    self._reenter()
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True


@external
def disarm():
    self.armed = False
