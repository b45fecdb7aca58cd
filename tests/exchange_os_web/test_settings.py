"""Production settings come from the environment and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "exchange_os_web.settings.production",
    "DJANGO_SECRET_KEY": "p" * 40 + "-Qx7!k2@Lm9#Rz4$Tn8%",
    "DJANGO_ALLOWED_HOSTS": "exchange.example",
    "DATABASE_URL": "postgres://app:secret@db.internal:5432/exchange",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CHAIN_RPC_URL": "https://rpc.chain.example",
    "CHAIN_ID": "196",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CHAIN_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secret() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Set the environment variable DJANGO_SECRET_KEY." in result.stderr


@pytest.mark.django_db
def test_openapi_schema_lists_the_sign_in_endpoints() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/auth/nonce", "/api/auth/login", "/api/auth/logout", "/api/auth/me"} <= set(paths)


@pytest.mark.django_db
def test_api_docs_page_uses_our_own_static_files() -> None:
    html = Client().get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
