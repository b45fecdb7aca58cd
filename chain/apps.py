"""Django app config for chain: contract artifacts, deployments, web3 client."""

from django.apps import AppConfig


class ChainConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chain"
    verbose_name = "Chain"
