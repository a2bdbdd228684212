# The run history's indexes (by task type, by subject, newest first) and Idempotency-Key records.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0006_run_claims"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IdempotencyKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=64)),
                ("status_code", models.PositiveSmallIntegerField(null=True)),
                ("response", models.JSONField(null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
        ),
        migrations.AddIndex(
            model_name="tasklaunch",
            index=models.Index(fields=["task_type", "created_at"], name="tasks_api_launch_type_created"),
        ),
        migrations.AddIndex(
            model_name="tasklaunch",
            index=models.Index(fields=["subject_id", "created_at"], name="tasks_api_launch_subj_created"),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="launch",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tasks_api.tasklaunch",
            ),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(fields=("user", "key"), name="tasks_api_idempotency_user_key"),
        ),
    ]
