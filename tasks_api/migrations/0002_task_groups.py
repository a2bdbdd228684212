"""The two ready groups: "task viewers" (read) and "task operators" (read, launch, revoke, terminate).

Created once here, so that what an administrator later changes in a group stays changed.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "task viewers": ["view_tasklaunch"],
    "task operators": ["view_tasklaunch", "launch_task", "revoke_task", "terminate_task"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create this app's now.
    app_config = apps.get_app_config("tasks_api")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, created = group_model.objects.get_or_create(name=name)
        if created:
            group.permissions.set(
                permission_model.objects.filter(content_type__app_label="tasks_api", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_api", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
