"""The ready groups see the companies their runs are about: viewers read them, operators also fix
them (a rejected clave is fixed on the company's page, where its "Sync now" buttons are).

Permissions are only added, and only to groups that still exist: what an administrator later
changes in a group stays changed.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "task viewers": ["view_company"],
    "task operators": ["view_company", "change_company"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("sii")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)  # normally made after all migrations
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = group_model.objects.filter(name=name).first()
        if group is not None:
            permissions = permission_model.objects.filter(
                content_type__app_label="sii", codename__in=codenames
            )
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("sii", "0005_company_clave_accepted"),
        ("tasks_api", "0002_task_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
