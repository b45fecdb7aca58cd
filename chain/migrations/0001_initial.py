from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="ContractDeployment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain_id", models.PositiveBigIntegerField()),
                ("name", models.CharField(max_length=64)),
                ("address", models.CharField(help_text="EIP-55 checksummed", max_length=42)),
                ("tx_hash", models.CharField(max_length=66)),
                ("block_number", models.PositiveBigIntegerField()),
                (
                    "artifact_sha256",
                    models.CharField(help_text="sha256 of the artifact JSON deployed", max_length=64),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["chain_id", "name"]},
        ),
        migrations.AddConstraint(
            model_name="contractdeployment",
            constraint=models.UniqueConstraint(fields=("chain_id", "name"), name="chain_deployment_unique_name"),
        ),
    ]
