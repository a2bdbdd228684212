# A run is one row: its status, times and error stored on the launch record (backfilled here from
# the rule that used to work them out at read time from the launch and its stored result), and
# one row per attempt from now on (attempts before this migration were not recorded).

import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat

FINISHED = ("SUCCESS", "FAILURE", "REVOKED")


def stored_states(apps, schema_editor):
    """Each run's state as the old rule said: a stored state (but PENDING) wins, then a publish
    that failed (FAILURE), then a revoke (REVOKED), else PENDING; with its start, finish and error."""
    Launch = apps.get_model("tasks_api", "TaskLaunch")
    Result = apps.get_model("django_celery_results", "TaskResult")
    decided = Result.objects.filter(task_id=OuterRef("task_id")).exclude(status="PENDING").order_by()
    Launch.objects.update(
        status=Coalesce(
            Subquery(decided.values("status")[:1]),
            Case(
                When(enqueued=False, then=Value("FAILURE")),
                When(revoke_requested_at__isnull=False, then=Value("REVOKED")),
                default=Value("PENDING"),
            ),
        )
    )
    Launch.objects.exclude(status="PENDING").update(started_at=Subquery(decided.values("date_created")[:1]))
    # A REVOKED row written by the revoke itself: no worker ever started the run.
    Launch.objects.filter(status="REVOKED", started_at__gte=F("revoke_requested_at")).update(started_at=None)
    finished = Launch.objects.filter(status__in=FINISHED)
    finished.update(finished_at=Coalesce(Subquery(decided.values("date_done")[:1]), F("created_at")))
    failed_publishes = Launch.objects.filter(status="FAILURE", enqueued=False)
    failed_publishes.exclude(task_id__in=decided.values("task_id")).update(
        error=Concat(Value("Failed to launch task: "), F("enqueue_error"))
    )
    erring = Launch.objects.filter(status__in=("FAILURE", "RETRY"), task_id__in=Result.objects.values("task_id"))
    texts = erring.annotate(text=Subquery(decided.values("result")[:1])).values_list("task_id", "text")
    for task_id, text in texts.iterator():
        Launch.objects.filter(task_id=task_id).update(error=exception_message(text))


def exception_message(text):
    """tasks_api.runs.errors.exception_message over the stored JSON text, frozen here."""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return text or "failed"
    if not isinstance(value, dict):
        return "failed" if value is None else str(value)
    message = value.get("exc_message")
    if isinstance(message, list | tuple):
        message = " ".join(str(part) for part in message)
    return message or value.get("exc_type") or "failed"


class Migration(migrations.Migration):

    dependencies = [
        ('tasks_api', '0009_metric_sample'),
        ('django_celery_results', '0011_taskresult_periodic_task_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RunAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(blank=True, null=True)),
                ('worker', models.CharField(help_text="The worker's node name (celery@host).", max_length=255)),
                ('pid', models.PositiveIntegerField(blank=True, null=True)),
                ('started_at', models.DateTimeField()),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('outcome', models.CharField(choices=[('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('retry', 'Retry scheduled'), ('lost', 'Lost: the worker died'), ('revoked', 'Revoked'), ('skipped', 'Duplicate delivery skipped')], default='running', max_length=10)),
                ('error_type', models.CharField(blank=True, max_length=255)),
                ('error_message', models.TextField(blank=True)),
                ('retry_at', models.DateTimeField(blank=True, help_text='When a scheduled retry is due.', null=True)),
            ],
            options={
                'ordering': ['started_at', 'id'],
            },
        ),
        migrations.RemoveIndex(
            model_name='tasklaunch',
            name='tasks_api_launch_waiting',
        ),
        migrations.AddField(
            model_name='tasklaunch',
            name='error',
            field=models.TextField(blank=True, help_text='Why it failed, or why its last attempt did.'),
        ),
        migrations.AddField(
            model_name='tasklaunch',
            name='finished_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='tasklaunch',
            name='started_at',
            field=models.DateTimeField(blank=True, help_text='When a worker first started it.', null=True),
        ),
        migrations.AddField(
            model_name='tasklaunch',
            name='status',
            field=models.CharField(choices=[('PENDING', 'PENDING'), ('STARTED', 'STARTED'), ('RETRY', 'RETRY'), ('SUCCESS', 'SUCCESS'), ('FAILURE', 'FAILURE'), ('REVOKED', 'REVOKED')], default='PENDING', max_length=10),
        ),
        migrations.RunPython(stored_states, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='tasklaunch',
            index=models.Index(fields=['status', 'created_at'], name='tasks_api_launch_status'),
        ),
        migrations.AddIndex(
            model_name='tasklaunch',
            index=models.Index(fields=['parent', 'status'], name='tasks_api_launch_parent_state'),
        ),
        migrations.AddIndex(
            model_name='tasklaunch',
            index=models.Index(condition=models.Q(('enqueued', True), ('status', 'PENDING')), fields=['published_at'], name='tasks_api_launch_queued'),
        ),
        migrations.AddField(
            model_name='runattempt',
            name='run',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='tasks_api.tasklaunch'),
        ),
        migrations.AddIndex(
            model_name='runattempt',
            index=models.Index(fields=['run', 'started_at'], name='tasks_api_attempt_run_started'),
        ),
    ]
