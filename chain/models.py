"""Where the contracts live: one row per (chain id, contract name)."""

from django.db import models


class ContractDeployment(models.Model):
    """A contract deployed by `manage.py deploy_contracts` on one chain."""

    chain_id = models.PositiveBigIntegerField()
    name = models.CharField(max_length=64)
    address = models.CharField(max_length=42, help_text="EIP-55 checksummed")
    tx_hash = models.CharField(max_length=66)
    block_number = models.PositiveBigIntegerField()
    artifact_sha256 = models.CharField(max_length=64, help_text="sha256 of the artifact JSON deployed")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_id", "name"], name="chain_deployment_unique_name")]
        ordering = ["chain_id", "name"]

    def __str__(self) -> str:
        return f"{self.name}@{self.chain_id}: {self.address}"
