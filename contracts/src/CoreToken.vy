# pragma version ~=0.4.3
"""
@title CoreToken
@notice ERC-20 stand-in for the chain's core asset (18 decimals), for local
        chains only. The deploying account is owner and minter and can mint
        demo balances; no production deployment uses this contract.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__():
    ownable.__init__()
    erc20.__init__("Exchange OS Core", "CORE", 18, "Exchange OS Core", "1")
