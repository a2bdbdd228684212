# Claims and deliveries on the launch record, and when each launch was last published.

from django.db import migrations, models
from django.db.models import F


def published_when_created(apps, schema_editor):
    # Launches enqueued before this migration were published right after they were recorded.
    apps.get_model("tasks_api", "TaskLaunch").objects.filter(enqueued=True).update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0005_scheduler_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="tasklaunch",
            name="published_at",
            field=models.DateTimeField(blank=True, help_text="Last publish to the broker.", null=True),
        ),
        migrations.AddField(
            model_name="tasklaunch",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="tasklaunch",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="tasklaunch",
            name="deliveries",
            field=models.PositiveIntegerField(default=0, help_text="Attempts a worker started."),
        ),
        migrations.AddField(
            model_name="tasklaunch",
            name="lost_deliveries",
            field=models.PositiveIntegerField(default=0, help_text="Attempts lost to dying workers."),
        ),
        migrations.RunPython(published_when_created, migrations.RunPython.noop),
    ]
