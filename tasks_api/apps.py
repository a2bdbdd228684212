"""The tasks_api app: the task catalog, launch records and the REST API over them."""

from django.apps import AppConfig


class TasksApiConfig(AppConfig):
    name = "tasks_api"
    verbose_name = "Celery tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the publish recorder, and the workers' metrics (finished runs, flush at task end).
        from tasks_api.metrics import worker  # noqa: F401
        from tasks_api.worker import signals  # noqa: F401
