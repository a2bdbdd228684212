"""How the API answers a launch or a relaunch: 202 with the launch shape, the catalog's refusals as
409/422/500, and an Idempotency-Key's replay of the first answer."""

from collections.abc import Callable

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tasks_api.api.exceptions import AlreadyRunning, Conflict, LaunchFailed
from tasks_api.api.serializers import TaskLaunchedSerializer, TaskRelaunchedSerializer
from tasks_api.models import TaskLaunch
from tasks_api.registry import UnknownTaskType
from tasks_api.services.catalog import FanOutAlreadyRunning, InvalidParams
from tasks_api.services.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyBusy,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    LaunchAnswer,
    idempotency_key_check,
    launch_idempotent,
)
from tasks_api.services.launches import TaskLaunchFailed

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$",
    description=(
        "Any unique string (a UUID, say). Sent again by the same user within 24 h, the first "
        "answer is returned (same task_id, same status) and nothing is launched again; with a "
        "different request, 422. A launch the broker refused (500) does not keep its key."
    ),
)


# One serializer each shapes every answer: building one per launch (DRF deep-copies its fields)
# costs more than using it. to_representation keeps no state, so threads may share them.
LAUNCHED, RELAUNCHED = TaskLaunchedSerializer(), TaskRelaunchedSerializer()


def launch_response(request: Request, *, asked: object, launch: Callable[[], TaskLaunch]) -> Response:
    """Run `launch` (once per Idempotency-Key) and answer it; `asked` is what the key stands for."""
    key = _idempotency_key(request)
    try:
        answer = launch_idempotent(
            user=request.user, key=key, request=asked, launch=lambda: _launched(launch())
        )
    except UnknownTaskType as exc:
        raise ValidationError({"task_type": [str(exc)]}) from None
    except FanOutAlreadyRunning as exc:  # before InvalidParams, which it extends
        raise AlreadyRunning(exc.sentences[0], task_id=exc.task_id) from None
    except InvalidParams as exc:
        raise ValidationError({"params": exc.sentences}) from None
    except IdempotencyKeyReused as exc:
        raise ValidationError(str(exc)) from None
    except IdempotencyKeyBusy:
        raise Conflict("A request with this Idempotency-Key is in progress; try again") from None
    except TaskLaunchFailed as exc:
        raise LaunchFailed(str(exc)) from exc
    return Response(answer.body, status=answer.status_code)


def _idempotency_key(request: Request) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    try:
        return None if raw is None else idempotency_key_check(raw)
    except InvalidIdempotencyKey as exc:
        raise ParseError(str(exc)) from None


def _launched(launch: TaskLaunch) -> LaunchAnswer:
    answer = {
        "task_id": launch.task_id,
        "task_type": launch.task_type,
        "status": "PENDING",
        "message": f"Task {launch.task_type} launched successfully",
    }
    shape = LAUNCHED
    if launch.relaunch_of_id:
        answer["relaunch_of"], shape = launch.relaunch_of_id, RELAUNCHED
    return LaunchAnswer(202, shape.to_representation(answer))
