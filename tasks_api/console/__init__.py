"""The operators' console (the Django admin): runs, launching, dashboard, workers, schedules.

Public face for domain apps: the console's extension points (pages under /admin/), its
permissions, and the display helpers that keep a domain's pages in the console's style. The
admins register from tasks_api/admin.py (Django's autodiscovery)."""

from tasks_api.console.display import admin_link, duration_text, moment, number, run_link
from tasks_api.console.pages import admin_pages_add
from tasks_api.permissions import LAUNCH, REVOKE, TERMINATE, VIEW

__all__ = [
    "LAUNCH", "REVOKE", "TERMINATE", "VIEW", "admin_link", "admin_pages_add", "duration_text", "moment",
    "number", "run_link",
]  # fmt: skip
