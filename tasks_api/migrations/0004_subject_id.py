# The run's domain subject, generic: company_id becomes subject_id (data kept).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0003_task_run_name"),
    ]

    operations = [
        migrations.RenameField(model_name="tasklaunch", old_name="company_id", new_name="subject_id"),
        migrations.AlterField(
            model_name="tasklaunch",
            name="retries",
            field=models.PositiveIntegerField(default=0, help_text="Retries so far."),
        ),
    ]
