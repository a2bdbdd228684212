"""The API's views for signed-in users holding one of the app's permissions."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from tasks_api import permissions


class PermissionRequiredView(APIView):
    """An API view for signed-in users holding `required_permission`."""

    required_permission = permissions.VIEW

    def get_permissions(self):
        return [IsAuthenticated(), permissions.HasPermission(self.required_permission)]
