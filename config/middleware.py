"""A database outage answers 503 with Retry-After (JSON for the API), not a 500 with a traceback."""

import logging
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tasks_api.api.exceptions import is_api_request, json_error
from tasks_api.outages import is_transient_database_error

logger = logging.getLogger(__name__)


class DatabaseOutageMiddleware:
    """Turns a database outage met in a view (a DRF authentication's token or session lookup, the
    admin's user, any query, a template's) into 503 with Retry-After: JSON {"detail": ...} under
    the API's path or for a client that prefers JSON, a line of text elsewhere (the admin).

    Django calls process_exception for what a view raises; no middleware here queries on its own
    way in, and the session is saved on the way out only when a view changed it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A refused, lost or timed-out connection, a server shutting down (also SQLite's
        # "database is locked"): worth trying again later. Other database errors stay 500s.
        if not is_transient_database_error(exception):
            return None
        logger.warning("Database unavailable for %s: %s", request.path, exception, exc_info=True)
        seconds = settings.DATABASE_OUTAGE_RETRY_AFTER_SECONDS
        sentence = f"The database is unavailable: try again in {seconds} seconds."
        if is_api_request(request) or _prefers_json(request):
            response: HttpResponse = json_error(sentence, HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            response = HttpResponse(
                sentence, status=HTTPStatus.SERVICE_UNAVAILABLE, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = str(seconds)
        return response


def _prefers_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"
