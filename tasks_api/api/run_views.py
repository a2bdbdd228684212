"""The API for programs that watch runs: the run history, a fan-out parent's children, a run's
attempts, relaunch."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks_api import permissions
from tasks_api.api import examples
from tasks_api.api.access import PermissionRequiredView
from tasks_api.api.launch_answers import IDEMPOTENCY_KEY, launch_response
from tasks_api.api.queries import query_validated
from tasks_api.api.run_serializers import (
    PageQuerySerializer,
    RunAttemptPageSerializer,
    RunAttemptSerializer,
    TaskChildrenQuerySerializer,
    runs_query_serializer,
    subject_names,
    task_run_page_serializer,
    task_run_serializer,
)
from tasks_api.api.serializers import (
    ErrorDetailSerializer,
    TaskAlreadyRunningSerializer,
    TaskRelaunchedSerializer,
    task_id_is_possible,
)
from tasks_api.api.throttles import LaunchRateThrottle
from tasks_api.models import TaskLaunch
from tasks_api.runs.queries import run_attempts
from tasks_api.selectors.history import task_children, task_runs_history
from tasks_api.selectors.status import task_launch_find
from tasks_api.services.catalog import task_relaunch_checked

TAG = "Celery Tasks"
ERRORS = {401: ErrorDetailSerializer, 403: ErrorDetailSerializer}
RUN_ID = OpenApiParameter("task_id", str, OpenApiParameter.PATH, description="The id a launch answered.")
PAGE_ERRORS = {400: ErrorDetailSerializer, 404: ErrorDetailSerializer, **ERRORS}


class RunPagination(PageNumberPagination):
    """DRF's page numbers (count, next, previous, results); sizes read per request."""

    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        self.page_size = settings.TASKS_API_PAGE_SIZE
        self.max_page_size = settings.TASKS_API_MAX_PAGE_SIZE
        return super().get_page_size(request)  # type: ignore[return-value]  # never None: page_size is set


def _page(rows, request: Request, view: APIView, serializer=None) -> Response:
    paginator = RunPagination()
    page: list | None = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response((serializer or task_run_serializer())(page, many=True).data)


def _not_found(task_id: str) -> Response:
    return Response({"detail": f"Task {task_id} not found"}, status=status.HTTP_404_NOT_FOUND)


def _launch_find(task_id: str) -> TaskLaunch | None:
    return task_launch_find(task_id=task_id) if task_id_is_possible(task_id) else None


class CeleryRunsView(PermissionRequiredView):
    @extend_schema(
        tags=[TAG],
        summary="The launch history, newest first",
        description=(
            "Every recorded launch (by users, beat, fan-out parents), filtered and paginated with "
            "a total. Filters combine; a subject filter (e.g. a company's id) matches the runs "
            "launched with that parameter."
        ),
        parameters=[runs_query_serializer()],
        responses={200: task_run_page_serializer(), **PAGE_ERRORS},
        examples=examples.run_page_examples(),
    )
    def get(self, request: Request) -> Response:
        query = query_validated(runs_query_serializer(), request)
        subjects = {query[name] for name in subject_names() if name in query}
        runs = task_runs_history(
            task_type=query.get("task_type"),
            status=query.get("status"),
            subject_id=next(iter(subjects), None),
            launched_after=query.get("launched_after"),
        )
        return _page(runs if len(subjects) < 2 else runs.none(), request, self)


class TaskChildrenView(PermissionRequiredView):
    @extend_schema(
        tags=[TAG],
        summary="A fan-out parent's children, in launch order",
        description="Each child with its state, subject, times and error; 404 for an id nobody launched.",
        parameters=[RUN_ID, TaskChildrenQuerySerializer],
        responses={200: task_run_page_serializer(), **PAGE_ERRORS},
        examples=examples.run_page_examples(children=True),
    )
    def get(self, request: Request, task_id: str) -> Response:
        query = query_validated(TaskChildrenQuerySerializer, request)
        if _launch_find(task_id) is None:
            return _not_found(task_id)
        return _page(task_children(parent_task_id=task_id, status=query.get("status")), request, self)


class TaskAttemptsView(PermissionRequiredView):
    @extend_schema(
        tags=[TAG],
        summary="A run's attempts: one per delivery to a worker, first first",
        description=(
            "Which worker took each delivery, when it started and ended, and how it ended: "
            "succeeded, failed, a retry scheduled (with its reason and when it is due), lost with "
            "its worker, revoked, or a duplicate skipped. 404 for an id nobody launched."
        ),
        parameters=[RUN_ID, PageQuerySerializer],
        responses={200: RunAttemptPageSerializer, **PAGE_ERRORS},
        examples=examples.attempt_page_examples(),
    )
    def get(self, request: Request, task_id: str) -> Response:
        query_validated(PageQuerySerializer, request)
        if _launch_find(task_id) is None:
            return _not_found(task_id)
        return _page(run_attempts(task_id=task_id), request, self, RunAttemptSerializer)


class TaskRelaunchView(PermissionRequiredView):
    required_permission = permissions.LAUNCH
    throttle_classes = [LaunchRateThrottle]  # a relaunch is a launch

    @extend_schema(
        tags=[TAG],
        summary="Relaunch a task: same task type, exactly the same params",
        description=(
            "A new recorded launch linked to the original (`relaunch_of`), as the admin's Relaunch "
            "does; one run of a fan-out task type at a time (409). With an Idempotency-Key, a "
            "retry returns the first answer; the same key for another task answers 422."
        ),
        parameters=[RUN_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={
            202: TaskRelaunchedSerializer,
            400: ErrorDetailSerializer,
            404: ErrorDetailSerializer,
            409: TaskAlreadyRunningSerializer,
            422: ErrorDetailSerializer,
            429: ErrorDetailSerializer,
            500: ErrorDetailSerializer,
            **ERRORS,
        },
        examples=examples.relaunch_examples(),
    )
    def post(self, request: Request, task_id: str) -> Response:
        original = _launch_find(task_id)
        if original is None:
            return _not_found(task_id)
        return launch_response(
            request,
            asked={"relaunch": task_id},
            launch=lambda: task_relaunch_checked(launch=original, user=request.user),
        )
