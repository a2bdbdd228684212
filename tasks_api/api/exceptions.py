"""API errors in the contract's shape: {"detail": "..."}, with 422 for every invalid input."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class LaunchFailed(APIException):
    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_code = "launch_failed"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class AlreadyRunning(Conflict):
    """A 409 that also names the run in the way: {"detail": "...", "task_id": "..."}."""

    def __init__(self, detail: str, *, task_id: str) -> None:
        super().__init__({"detail": detail, "task_id": task_id})


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ValidationError):
        # FastAPI-style 422 (the original service's contract) instead of DRF's 400, with one sentence.
        return Response({"detail": validation_sentence(exc.detail)}, status=422)
    return exception_handler(exc, context)


def validation_sentence(detail) -> str:
    if isinstance(detail, dict) and "params" in detail:
        return "Invalid parameters: " + "; ".join(str(message) for message in _flat(detail["params"]))
    return "; ".join(str(message) for message in _flat(detail))


def _flat(detail) -> list:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flat(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flat(value)]
    return [detail]


# Django's own error pages (handler400/403/404/500 in config/urls.py): JSON under the API's path,
# Django's HTML elsewhere (the admin), so an API client never has to parse a page.


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(settings.TASKS_API_PATH_PREFIX)


def json_error(detail: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("Bad request.", status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("You do not have permission to perform this action.", status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("Not found.", status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error("Internal server error.", status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
