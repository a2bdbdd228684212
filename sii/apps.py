"""The sii app: companies, SII documents and the tasks that sync them."""

from django.apps import AppConfig


class SiiConfig(AppConfig):
    name = "sii"
    verbose_name = "SII"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declares the app's metric families, so /metrics lists them before anything is counted.
        from sii import metrics  # noqa: F401
