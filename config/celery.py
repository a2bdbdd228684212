"""The Celery application: `celery -A config worker` / `celery -A config beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sii_tasks")
# Every CELERY_* Django setting configures Celery; one place for configuration.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # each app's tasks module (sii.tasks)
app.autodiscover_tasks(["tasks_api.worker"])  # the control plane's own (reconciler, expiries)
# Each worker pushes its stats snapshot for the API on a timer (tasks_api/worker/snapshot.py).
app.steps["consumer"].add("tasks_api.worker.snapshot:SnapshotPush")
