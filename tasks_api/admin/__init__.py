"""The operators' console: task runs, launching, and the result and schedule admins linked to them."""

from tasks_api.admin import accounts, dashboard, results, runs, schedules, workers  # noqa: F401  (registers the admins and pages)
