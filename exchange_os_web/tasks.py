"""Project-wide periodic tasks: the worker heartbeat that /healthz reads."""

import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache


@shared_task(name="exchange_os_web.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Record that a worker ran a task just now; idempotent, so retries and duplicates are harmless."""
    cache.set(settings.WORKER_HEARTBEAT_KEY, int(time.time()), timeout=settings.WORKER_HEARTBEAT_MAX_AGE_S * 2)
