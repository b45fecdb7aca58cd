"""The Celery app: Redis broker, JSON only, tasks discovered from every Django app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exchange_os_web.settings.local")

app = Celery("exchange_os_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["exchange_os_web"])
