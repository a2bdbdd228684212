"""Public face for domain apps: the console's extension points (pages under /admin/), its
permissions, and the display helpers that keep a domain's pages in the console's style."""

from tasks_api.admin.display import admin_link, duration_text, moment, number, run_link
from tasks_api.admin.pages import admin_pages_add
from tasks_api.permissions import LAUNCH, REVOKE, TERMINATE, VIEW

__all__ = [
    "LAUNCH", "REVOKE", "TERMINATE", "VIEW", "admin_link", "admin_pages_add", "duration_text", "moment",
    "number", "run_link",
]  # fmt: skip
