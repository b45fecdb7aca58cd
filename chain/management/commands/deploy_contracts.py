"""manage.py deploy_contracts: deploy the contracts to settings.CHAIN_RPC_URL and record them per chain id."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from chain.client import web3_client
from chain.deployment import DeploymentError, deploy_all, has_code
from chain.models import ContractDeployment

REQUIRED = ("MarketRegistry", "Vault")


class Command(BaseCommand):
    help = "Deploy CoreToken/CollateralToken (local chain only), MarketRegistry and Vault; record their addresses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="deploy again even if recorded contracts have code")
        parser.add_argument("--core-token", default=None, help="core asset address (required off the local chain)")
        parser.add_argument(
            "--collateral-token", default=None, help="collateral token address (required off the local chain)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        w3 = web3_client()
        try:
            chain_id = w3.eth.chain_id
        except Exception as exc:  # noqa: BLE001 - any transport error means the node is unreachable
            raise CommandError(f"cannot reach the chain at {settings.CHAIN_RPC_URL}: {exc}") from exc
        if chain_id != settings.CHAIN_ID:
            raise CommandError(
                f"the node at {settings.CHAIN_RPC_URL} is chain {chain_id}, settings say {settings.CHAIN_ID}"
            )

        recorded = {d.name: d for d in ContractDeployment.objects.filter(chain_id=chain_id)}
        live = all(n in recorded and has_code(w3, recorded[n].address) for n in REQUIRED)
        if live and all(has_code(w3, d.address) for d in recorded.values()) and not options["force"]:
            self.stdout.write(f"Contracts already deployed on chain {chain_id}; skipping (use --force to redeploy).")
            self._print(recorded.values())
            return

        for name in ("DEPLOYER_PRIVATE_KEY", "OPERATOR_ADDRESS"):
            if not getattr(settings, name, ""):
                raise CommandError(f"set {name}")
        try:
            deployed = deploy_all(
                w3,
                settings.DEPLOYER_PRIVATE_KEY,
                list(settings.COMMITTEE_ADDRESSES),
                settings.COMMITTEE_QUORUM,
                settings.OPERATOR_ADDRESS,
                core_token=options["core_token"],
                collateral_token=options["collateral_token"],
            )
        except DeploymentError as exc:
            raise CommandError(str(exc)) from exc

        with transaction.atomic():
            rows = [
                ContractDeployment.objects.update_or_create(
                    chain_id=chain_id,
                    name=d.name,
                    defaults={
                        "address": d.address,
                        "tx_hash": d.tx_hash,
                        "block_number": d.block_number,
                        "artifact_sha256": d.artifact_sha256,
                    },
                )[0]
                for d in deployed.values()
            ]
        self.stdout.write(f"Deployed on chain {chain_id}:")
        self._print(rows)
        if chain_id == 31337 and "CoreToken" in deployed:
            self.stdout.write("Minted demo CORE and XUSD balances to anvil accounts 0..9.")

    def _print(self, rows: Any) -> None:
        for row in sorted(rows, key=lambda r: r.name):
            self.stdout.write(f"  {row.name:<16} {row.address}")
