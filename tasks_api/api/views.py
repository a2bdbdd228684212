"""The Celery Tasks API: list, launch, status (with wait), revoke and stats. Thin: validate, call, shape.

The run history, a parent's children and relaunch are in tasks_api.api.run_views.
"""

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tasks_api import permissions
from tasks_api.api import examples
from tasks_api.api.access import PermissionRequiredView
from tasks_api.api.exceptions import Conflict
from tasks_api.api.launch_answers import IDEMPOTENCY_KEY, launch_response
from tasks_api.api.queries import query_validated
from tasks_api.api.serializers import (
    CeleryStatsSerializer,
    ErrorDetailSerializer,
    StrictBodiesSchema,
    TaskAlreadyRunningSerializer,
    TaskLaunchedSerializer,
    TaskLaunchRequestSerializer,
    TaskRevokedSerializer,
    TaskRevokeQuerySerializer,
    TaskStatusQuerySerializer,
    TaskStatusSerializer,
    TaskTypeSerializer,
    launch_envelopes,
    task_id_is_possible,
)
from tasks_api.api.throttles import LaunchRateThrottle
from tasks_api.selectors.catalog import task_types_list
from tasks_api.selectors.stats import celery_stats_get
from tasks_api.selectors.status import UNKNOWN, task_status_get
from tasks_api.selectors.waiting import task_status_wait
from tasks_api.services.catalog import task_launch_validated
from tasks_api.services.revocations import TaskAlreadyFinished, TaskNotFound, task_revoke

TAG = "Celery Tasks"
ERRORS = {401: ErrorDetailSerializer, 403: ErrorDetailSerializer}
# "launch" is the launch route's, never a task's id: other methods on it answer 405.
LAUNCH_ROUTE = {405: ErrorDetailSerializer}
LAUNCH_BODY = PolymorphicProxySerializer(
    component_name="TaskLaunchRequest",
    serializers=launch_envelopes(),
    resource_type_field_name="task_type",
)
# Any path segment but "launch", which is the launch route's (and no task's: ids are UUIDs).
TASK_ID_REGEX = "(?!launch$)[^/]+"
TASK_ID = OpenApiParameter(
    "task_id",
    str,
    OpenApiParameter.PATH,
    pattern=f"^{TASK_ID_REGEX}$",
    description=(
        "The id a launch answered. Any other id answers as one nobody launched; one that no task "
        "can have (over 255 characters, or with control characters) too, without a lookup."
    ),
)


class CeleryTaskViewSet(viewsets.ViewSet):
    lookup_field = "task_id"
    lookup_value_regex = TASK_ID_REGEX
    schema = StrictBodiesSchema()
    required_permission = {
        "list": permissions.VIEW,
        "retrieve": permissions.VIEW,
        "launch": permissions.LAUNCH,
        "destroy": permissions.REVOKE,
    }

    def get_permissions(self):
        # No action for OPTIONS or an unsupported method: signed-in users get the metadata or a 405.
        required = self.required_permission.get(self.action or "")
        return [IsAuthenticated(), *([permissions.HasPermission(required)] if required else [])]

    def get_throttles(self):
        # Launches only: status polling is never throttled.
        return [LaunchRateThrottle()] if self.action == "launch" else []

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
        description=(
            "At most one run of a fan-out task type (all companies) is pending or running at a "
            "time: launching another answers 409 with the running one's task_id. Launches are "
            "throttled per user (429, with Retry-After). With an Idempotency-Key, a retry of the "
            "same request returns the first answer instead of launching again."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=LAUNCH_BODY,
        responses={
            202: TaskLaunchedSerializer,
            400: ErrorDetailSerializer,
            409: TaskAlreadyRunningSerializer,
            413: ErrorDetailSerializer,
            415: ErrorDetailSerializer,
            422: ErrorDetailSerializer,
            429: ErrorDetailSerializer,
            500: ErrorDetailSerializer,
            **ERRORS,
        },
        examples=examples.launch_examples(),
    )
    @action(detail=False, methods=["post"])
    def launch(self, request):
        body = TaskLaunchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task_type, params = body.validated_data["task_type"], body.validated_data["params"]
        return launch_response(
            request,
            asked={"launch": request.data},
            launch=lambda: task_launch_validated(task_type=task_type, data=params, user=request.user),
        )

    @extend_schema(
        tags=[TAG],
        summary="Get a task's status (optionally waiting for it to finish)",
        description=(
            "With `wait=N` (0 to 30 seconds) the answer comes as soon as the task reaches SUCCESS, "
            "FAILURE or REVOKED, or after N seconds with whatever state it is in then. An id "
            "nobody launched answers at once: nothing could ever finish it. A fan-out parent "
            "finishes when it has launched its children: `meta.children_done` says when they have."
        ),
        parameters=[TASK_ID, TaskStatusQuerySerializer],
        responses={200: TaskStatusSerializer, 400: ErrorDetailSerializer, **ERRORS, **LAUNCH_ROUTE},
        examples=examples.status_examples(),
    )
    def retrieve(self, request, task_id: str):
        # Most polls carry no query string: no serializer to build for them.
        wait = (
            query_validated(TaskStatusQuerySerializer, request).get("wait") if request.query_params else None
        )
        if not task_id_is_possible(task_id):
            found = _unknown(task_id)
        elif wait:
            found = task_status_wait(task_id=task_id, seconds=wait)
        else:
            found = task_status_get(task_id=task_id)
        return Response(STATUS_SHAPE.to_representation(found))

    @extend_schema(
        tags=[TAG],
        summary="Revoke a task (terminate=true also kills it if running)",
        parameters=[
            TASK_ID,
            OpenApiParameter("terminate", bool, description="Kill the task if it is running."),
        ],
        responses={
            200: TaskRevokedSerializer,
            404: ErrorDetailSerializer,
            409: ErrorDetailSerializer,
            422: ErrorDetailSerializer,
            **ERRORS,
            **LAUNCH_ROUTE,
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
            revoked = _revoke(task_id=task_id, terminate=terminate, user=request.user)
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


TIMES = ("launched_at", "started_at", "finished_at")
# One serializer shapes every status answer: building one per poll (DRF deep-copies its fields)
# cost more than the query. to_representation keeps no state, so threads may share it.
STATUS_SHAPE = TaskStatusSerializer()


def _unknown(task_id: str) -> dict:
    """The status of an id no task can have, as for any id nobody launched (the contract's
    PENDING), without a query: the database could not even compare some of them (NUL)."""
    empty = dict.fromkeys(("result", "error", "traceback", "task_type", "params", *TIMES))
    return {"task_id": task_id, "status": "PENDING", "meta": UNKNOWN, "unknown": True, **empty}


def _revoke(*, task_id: str, terminate: bool, user) -> list[str]:
    if not task_id_is_possible(task_id):
        raise TaskNotFound(task_id)  # nobody launched it: no query needed to say so
    return task_revoke(task_id=task_id, terminate=terminate, user=user)


class CeleryStatsView(PermissionRequiredView):
    @extend_schema(
        tags=[TAG],
        summary="Workers and queues",
        responses={200: CeleryStatsSerializer, **ERRORS},
        examples=examples.stats_examples(),
    )
    def get(self, request):
        return Response(CeleryStatsSerializer(celery_stats_get()).data)


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI schema, in YAML or JSON as asked; its errors (a 405) in JSON like the API's."""

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
