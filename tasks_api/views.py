"""The Celery Tasks API: list, launch, status, revoke and stats. Thin: validate, call, shape."""

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_api import examples, permissions
from tasks_api.exceptions import Conflict, LaunchFailed
from tasks_api.models import TaskLaunch
from tasks_api.registry import UnknownTaskType
from tasks_api.selectors.catalog import task_types_list
from tasks_api.selectors.stats import celery_stats_get
from tasks_api.selectors.status import task_status_get
from tasks_api.serializers import (
    CeleryStatsSerializer,
    ErrorDetailSerializer,
    TaskLaunchedSerializer,
    TaskLaunchRequestSerializer,
    TaskRevokedSerializer,
    TaskRevokeQuerySerializer,
    TaskStatusSerializer,
    TaskTypeSerializer,
    launch_envelopes,
)
from tasks_api.services.catalog import InvalidParams, task_launch_validated
from tasks_api.services.launches import TaskLaunchFailed
from tasks_api.services.revocations import TaskAlreadyFinished, TaskNotFound, task_revoke

TAG = "Celery Tasks"
ERRORS = {401: ErrorDetailSerializer, 403: ErrorDetailSerializer}
LAUNCH_BODY = PolymorphicProxySerializer(
    component_name="TaskLaunchRequest",
    serializers=launch_envelopes(),
    resource_type_field_name="task_type",
)


class CeleryTaskViewSet(viewsets.ViewSet):
    lookup_field = "task_id"
    lookup_value_regex = "[^/]+"
    required_permission = {
        "list": permissions.VIEW,
        "retrieve": permissions.VIEW,
        "launch": permissions.LAUNCH,
        "destroy": permissions.REVOKE,
    }

    def get_permissions(self):
        return [IsAuthenticated(), permissions.HasPermission(self.required_permission[self.action])]

    @extend_schema(
        tags=[TAG],
        summary="List launchable task types",
        responses={200: TaskTypeSerializer(many=True), **ERRORS},
    )
    def list(self, request):
        return Response(TaskTypeSerializer(task_types_list(), many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Launch a task",
        request=LAUNCH_BODY,
        responses={
            202: TaskLaunchedSerializer,
            400: ErrorDetailSerializer,
            422: ErrorDetailSerializer,
            500: ErrorDetailSerializer,
            **ERRORS,
        },
        examples=examples.launch_examples(),
    )
    @action(detail=False, methods=["post"])
    def launch(self, request):
        body = TaskLaunchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        launch = _launch(**body.validated_data, user=request.user)
        answer = {
            "task_id": launch.task_id,
            "task_type": launch.task_type,
            "status": "PENDING",
            "message": f"Task {launch.task_type} launched successfully",
        }
        return Response(TaskLaunchedSerializer(answer).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        tags=[TAG],
        summary="Get a task's status",
        responses={200: TaskStatusSerializer, **ERRORS},
        examples=examples.status_examples(),
    )
    def retrieve(self, request, task_id: str):
        return Response(TaskStatusSerializer(task_status_get(task_id=task_id)).data)

    @extend_schema(
        tags=[TAG],
        summary="Revoke a task (terminate=true also kills it if running)",
        parameters=[OpenApiParameter("terminate", bool, description="Kill the task if it is running.")],
        responses={
            200: TaskRevokedSerializer,
            404: ErrorDetailSerializer,
            409: ErrorDetailSerializer,
            422: ErrorDetailSerializer,
            **ERRORS,
        },
        examples=examples.REVOKE,
    )
    def destroy(self, request, task_id: str):
        query = TaskRevokeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        terminate = query.validated_data["terminate"]
        if terminate and not request.user.has_perm(permissions.TERMINATE):
            raise PermissionDenied("You do not have the permission to terminate tasks.")
        try:
            revoked = task_revoke(task_id=task_id, terminate=terminate, user=request.user)
        except TaskNotFound:
            return Response({"detail": f"Task {task_id} not found"}, status=status.HTTP_404_NOT_FOUND)
        except TaskAlreadyFinished:
            raise Conflict(f"Task {task_id} has already finished; its result is kept") from None
        answer = {
            "task_id": task_id,
            "status": "revoked",
            "terminate": terminate,
            "message": f"Task {task_id} has been revoked",
            "children_revoked": len([i for i in revoked if i != task_id]),
        }
        return Response(TaskRevokedSerializer(answer).data)


def _launch(*, task_type: str, params: dict, user) -> TaskLaunch:
    """The catalog's launch, its refusals as the API's 422 and 500 answers."""
    try:
        return task_launch_validated(task_type=task_type, data=params, user=user)
    except UnknownTaskType as exc:
        raise ValidationError({"task_type": [str(exc)]}) from None
    except InvalidParams as exc:
        raise ValidationError({"params": exc.sentences}) from None
    except TaskLaunchFailed as exc:
        raise LaunchFailed(str(exc)) from exc


class CeleryStatsView(APIView):
    def get_permissions(self):
        return [IsAuthenticated(), permissions.HasPermission(permissions.VIEW)]

    @extend_schema(
        tags=[TAG],
        summary="Workers and queues",
        responses={200: CeleryStatsSerializer, **ERRORS},
        examples=examples.stats_examples(),
    )
    def get(self, request):
        return Response(CeleryStatsSerializer(celery_stats_get()).data)
