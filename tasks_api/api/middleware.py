"""The API's request-size guard: an oversized body answers 413 JSON before anything reads it."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from rest_framework import status

from tasks_api.api.exceptions import is_api_request, json_error


class ApiRequestSizeMiddleware:
    """Refuses API requests whose Content-Length exceeds TASKS_API_MAX_BODY_BYTES.

    Django would raise RequestDataTooBig only once a view reads the body, and answer with its
    HTML 400 page; here the client learns the limit from a JSON 413 without the body being read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("Invalid Content-Length header.", status.HTTP_400_BAD_REQUEST)
        if length > settings.TASKS_API_MAX_BODY_BYTES:
            return _too_large()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A body read past the limit some other way (Django's own DATA_UPLOAD_MAX_MEMORY_SIZE).
        if isinstance(exception, RequestDataTooBig) and is_api_request(request):
            return _too_large()
        return None


def _too_large() -> HttpResponse:
    limit = settings.TASKS_API_MAX_BODY_BYTES
    return json_error(
        f"Request body too large: at most {limit} bytes.", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )
