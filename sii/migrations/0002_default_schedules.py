"""Create the daily all-companies schedules once; afterwards the admin owns them.

A data migration runs once per database, so a schedule an operator edits or deletes in the
admin stays as the operator left it across restarts and deploys.
"""

import json

from django.db import migrations
from django.utils import timezone

SANTIAGO = "America/Santiago"
DEFAULT_SCHEDULES = [
    {
        "name": "Sync documents for all companies (daily)",
        "task": "sii.sync_documents_all_companies",
        # The current month and the previous one, which still receives late documents.
        "kwargs": {"months": 2, "month_offset": 0},
        "hour": "3",
        "minute": "0",
        "description": "Fans out sii.sync_documents to every company with an active subscription.",
    },
    {
        "name": "Sync F29 for all companies (daily)",
        "task": "sii.sync_f29_all_companies",
        "kwargs": {},
        "hour": "4",
        "minute": "30",
        "description": "Fans out sii.sync_f29 (current year) to every company with SII credentials.",
    },
]


def create_schedules(apps, schema_editor):
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    periodic_task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for spec in DEFAULT_SCHEDULES:
        if periodic_task_model.objects.filter(name=spec["name"]).exists():
            continue
        crontab, _ = crontab_model.objects.get_or_create(
            minute=spec["minute"], hour=spec["hour"], day_of_week="*", day_of_month="*",
            month_of_year="*", timezone=SANTIAGO,
        )
        periodic_task_model.objects.create(
            name=spec["name"], task=spec["task"], crontab=crontab, kwargs=json.dumps(spec["kwargs"]),
            description=spec["description"], queue="celery",
        )
    # django-celery-beat's scheduler reloads when this row changes.
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sii", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
