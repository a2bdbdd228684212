"""Who may do what: Django permissions on launch records, checked per API action."""

from rest_framework.permissions import BasePermission

VIEW = "tasks_api.view_tasklaunch"
LAUNCH = "tasks_api.launch_task"
REVOKE = "tasks_api.revoke_task"
TERMINATE = "tasks_api.terminate_task"


class HasPermission(BasePermission):
    """Allows users holding one Django permission (superusers hold them all)."""

    def __init__(self, permission: str) -> None:
        self.permission = permission
        self.message = f"You do not have the permission {permission!r}."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(self.permission))
