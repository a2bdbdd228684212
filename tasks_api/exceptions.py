"""API errors in the contract's shape: {"detail": "..."}, with 422 for every invalid input."""

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
