"""/healthz reports every part of the stack and answers 503 when one is down."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from exchange_os_web.tasks import worker_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chain(anvil_rpc_url: str, settings):  # noqa: ANN001 - pytest-django's settings fixture
    settings.CHAIN_RPC_URL = anvil_rpc_url
    cache.delete(settings.WORKER_HEARTBEAT_KEY)
    yield
    cache.delete(settings.WORKER_HEARTBEAT_KEY)


def test_everything_up_is_200_with_chain_details() -> None:
    worker_heartbeat()  # what the worker does every few seconds
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert body["parts"]["chain"]["chain_id"] == 31337
    assert body["parts"]["chain"]["latest_block"] >= 0
    assert body["parts"]["worker"]["heartbeat_age_s"] <= settings.WORKER_HEARTBEAT_MAX_AGE_S


def test_no_worker_heartbeat_is_503() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    worker = response.json()["parts"]["worker"]
    assert worker == {"ok": False, "error": "RuntimeError: no heartbeat from any Celery worker"}


def test_chain_down_is_503(settings) -> None:  # noqa: ANN001
    worker_heartbeat()
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # discard port: nothing answers
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["parts"]["chain"]["ok"] is False
    assert response.json()["parts"]["database"]["ok"] is True


def test_a_real_worker_turns_the_worker_part_green(tmp_path) -> None:
    import os
    import subprocess
    import sys
    import time

    # given a Celery worker process on the suite's Redis
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "exchange_os_web",
            "worker",
            "-P",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "exchange_os_web.settings.test"},
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        # when a heartbeat task is queued, as beat does every few seconds
        worker_heartbeat.delay()
        deadline = time.monotonic() + 60
        while cache.get(settings.WORKER_HEARTBEAT_KEY) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        # then the health report sees a live worker
        response = Client().get("/healthz")
        assert response.json()["parts"]["worker"]["ok"] is True, (tmp_path / "worker.log").read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
