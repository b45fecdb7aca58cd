"""CoreToken / CollateralToken: the local-chain stand-ins."""

from __future__ import annotations

import boa


def test_metadata(system):
    assert (system.core.name(), system.core.symbol(), system.core.decimals()) == ("Exchange OS Core", "CORE", 18)
    assert (system.collateral.name(), system.collateral.symbol(), system.collateral.decimals()) == (
        "Exchange OS USD",
        "XUSD",
        6,
    )


def test_only_the_deployer_mints(system, alice):
    for token in (system.core, system.collateral):
        with boa.env.prank(system.deployer):
            token.mint(alice, 5)
        assert token.balanceOf(alice) == 5
        with boa.env.prank(alice), boa.reverts("erc20: access is denied"):
            token.mint(alice, 5)
        with boa.env.prank(alice), boa.reverts("ownable: caller is not the owner"):
            token.set_minter(alice, True)


def test_transfer_and_allowance(system, alice, bob):
    with boa.env.prank(system.deployer):
        system.core.mint(alice, 10)
    with boa.env.prank(alice):
        system.core.transfer(bob, 4)
        system.core.approve(bob, 3)
    with boa.env.prank(bob):
        system.core.transferFrom(alice, bob, 3)
        with boa.reverts("erc20: insufficient allowance"):
            system.core.transferFrom(alice, bob, 1)
    assert (system.core.balanceOf(alice), system.core.balanceOf(bob)) == (3, 7)
