"""What Django's admin autodiscovery imports: the console's admins and pages register here."""

from tasks_api.console import accounts, dashboard, results, runs, schedules, workers  # noqa: F401  (registers the admins and pages)
