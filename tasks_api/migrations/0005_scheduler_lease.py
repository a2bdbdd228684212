# The beat lease: one row per singleton process, so only its holder fires the schedules.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0004_subject_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="SchedulerLease",
            fields=[
                ("name", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("holder", models.TextField(help_text="host:pid:token of the process holding the lease.")),
                ("expires_at", models.DateTimeField()),
            ],
        ),
    ]
