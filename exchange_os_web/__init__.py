"""Django project package: settings, URLs, ASGI entry, Celery app and channel routing."""

from .celery import app as celery_app

__all__ = ["celery_app"]
