# /metrics: the shared store of counts without Redis, and an index for the oldest waiting launch.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0008_api_token_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MetricSample",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("value", models.FloatField(default=0.0)),
            ],
        ),
        migrations.AddIndex(
            model_name="tasklaunch",
            index=models.Index(
                condition=models.Q(
                    ("deliveries", 0), ("enqueued", True), ("revoke_requested_at__isnull", True)
                ),
                fields=["published_at"],
                name="tasks_api_launch_waiting",
            ),
        ),
    ]
