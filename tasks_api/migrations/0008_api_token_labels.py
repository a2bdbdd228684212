# API token names and last use: a label beside each knox token.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def label_existing_tokens(apps, schema_editor):
    # Tokens made before names existed get one from their prefix, so they can be told apart,
    # tracked and revoked by name once their clients have moved to a named token.
    token_model = apps.get_model("knox", "AuthToken")
    label_model = apps.get_model("tasks_api", "ApiTokenLabel")
    label_model.objects.bulk_create(
        label_model(token=token, user_id=token.user_id, name=f"unnamed-{token.token_key}")
        for token in token_model.objects.filter(label__isnull=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("knox", "0009_extend_authtoken_field"),
        ("tasks_api", "0007_launch_history_and_idempotency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiTokenLabel",
            fields=[
                (
                    "token",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="label",
                        serialize=False,
                        to="knox.authtoken",
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "last_used_at",
                    models.DateTimeField(blank=True, help_text="Written at most once a minute.", null=True),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("user", "name"), name="tasks_api_token_user_name")
                ],
            },
        ),
        migrations.RunPython(label_existing_tokens, migrations.RunPython.noop),
    ]
