"""The one Celery app of the platform (STYLE 8)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphalink.settings")

app = Celery("alphalink")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
