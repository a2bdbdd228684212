"""The daily all-companies schedules: created once, then owned by the admin."""

import importlib
import json

import pytest
from django.apps import apps
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from kombu.utils.imports import symbol_by_name

pytestmark = pytest.mark.django_db
migration = importlib.import_module("sii.migrations.0002_default_schedules")


@pytest.fixture
def no_schedules():
    PeriodicTask.objects.all().delete()


def test_the_two_daily_fan_out_schedules_are_created_with_the_database_scheduler(no_schedules, settings):
    migration.create_schedules(apps, None)

    tasks = {p.task: p for p in PeriodicTask.objects.all()}
    assert set(tasks) == {"sii.sync_documents_all_companies", "sii.sync_f29_all_companies"}
    assert json.loads(tasks["sii.sync_documents_all_companies"].kwargs) == {"months": 2, "month_offset": 0}
    assert str(tasks["sii.sync_f29_all_companies"].crontab.timezone) == "America/Santiago"
    assert issubclass(symbol_by_name(settings.CELERY_BEAT_SCHEDULER), DatabaseScheduler)


def test_a_schedule_edited_in_the_admin_is_not_overwritten(no_schedules):
    migration.create_schedules(apps, None)
    edited = PeriodicTask.objects.get(task="sii.sync_f29_all_companies")
    edited.crontab = CrontabSchedule.objects.create(minute="15", hour="22", timezone="America/Santiago")
    edited.enabled = False
    edited.save()

    migration.create_schedules(apps, None)

    edited.refresh_from_db()
    assert (edited.crontab.hour, edited.enabled) == ("22", False)
    assert PeriodicTask.objects.filter(task="sii.sync_f29_all_companies").count() == 1
