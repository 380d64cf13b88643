"""The Celery application of MeterOps, configured from Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meterops.settings")

app = Celery("meterops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
