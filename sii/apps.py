"""The sii app: companies, SII documents and the tasks that sync them."""

from django.apps import AppConfig


class SiiConfig(AppConfig):
    name = "sii"
    verbose_name = "SII"
    default_auto_field = "django.db.models.BigAutoField"
