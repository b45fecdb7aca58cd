"""Probes for /healthz: each part of the stack answers with its state, never an exception."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _probe(fn: Any) -> dict[str, Any]:
    try:
        return {"ok": True, **fn()}
    except Exception as exc:  # a probe reports any failure as "down" with its reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        cursor.fetchone()
    return {}


def _redis() -> dict[str, Any]:
    # A write and a read through the cache: proves the server answers and accepts writes.
    cache.set("health:probe", 1, timeout=5)
    if cache.get("health:probe") != 1:
        raise RuntimeError("Redis did not return what was written")
    return {}


def _chain() -> dict[str, Any]:
    from chain.client import web3_client

    w3 = web3_client()
    chain_id = w3.eth.chain_id
    if chain_id != settings.CHAIN_ID:
        raise RuntimeError(f"node is on chain {chain_id}, expected {settings.CHAIN_ID}")
    return {"chain_id": chain_id, "latest_block": w3.eth.block_number}


def _worker() -> dict[str, Any]:
    beat = cache.get(settings.WORKER_HEARTBEAT_KEY)
    if beat is None:
        raise RuntimeError("no heartbeat from any Celery worker")
    age = int(time.time()) - int(beat)
    if age > settings.WORKER_HEARTBEAT_MAX_AGE_S:
        raise RuntimeError(f"last heartbeat {age}s ago")
    return {"heartbeat_age_s": age}


def health_report() -> dict[str, Any]:
    parts = {
        "database": _probe(_database),
        "redis": _probe(_redis),
        "chain": _probe(_chain),
        "worker": _probe(_worker),
    }
    return {"ok": all(p["ok"] for p in parts.values()), "parts": parts}
