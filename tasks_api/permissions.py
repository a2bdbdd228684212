"""Who may do what: the app's Django permissions, named once here, checked per API action."""

from rest_framework.permissions import BasePermission

APP_LABEL = "tasks_api"
# Codename -> description: the launch record model declares them (Meta.permissions).
CUSTOM = {
    "launch_task": "Can launch tasks",
    "revoke_task": "Can revoke tasks",
    "terminate_task": "Can terminate running tasks",
}
# view_tasklaunch (Django's own) lets a user list task types, read statuses and stats.
VIEW = f"{APP_LABEL}.view_tasklaunch"
LAUNCH = f"{APP_LABEL}.launch_task"
REVOKE = f"{APP_LABEL}.revoke_task"
TERMINATE = f"{APP_LABEL}.terminate_task"


class HasPermission(BasePermission):
    """Allows users holding one Django permission (superusers hold them all)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission
        self.message = f"You do not have the permission {permission!r}."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(self.permission))
