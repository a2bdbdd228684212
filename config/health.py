"""Liveness and readiness endpoints for load balancers and container health checks."""

import time
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked, so a slow dependency never restarts it."""
    return JsonResponse({"status": "ok"})


@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Database, broker and at least one worker. Anyone learns whether the service is ready; only
    staff (signed in to the admin) see each check, how long it took and why it failed, since that
    names workers and quotes the broker's errors."""
    checks = {"database": _timed(_database), "broker": _timed(_broker), "workers": _timed(_workers)}
    ready = all(check["ok"] for check in checks.values())
    answer: dict[str, object] = {"status": "ok" if ready else "unavailable"}
    # Who asks is known only from the database (the session, the user): down, nobody sees details.
    if checks["database"]["ok"] and request.user.is_authenticated and request.user.is_staff:
        answer["checks"] = checks
    return JsonResponse(answer, status=200 if ready else 503)


def _timed(check: Callable[[], str | None]) -> dict:
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as exc:  # any failure means "not ready"; its type says which
        detail, ok = f"{type(exc).__name__}: {exc}"[:200], False
    result = {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    return {**result, "detail": detail} if detail else result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with current_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)


def _workers() -> str:
    # The first answer is enough to be ready; waiting for every worker would cost the whole timeout.
    replies = current_app.control.ping(timeout=settings.TASKS_API_STATS_TIMEOUT, limit=1)
    if not replies:
        raise LookupError("no worker answered a ping")
    return f"{next(iter(replies[0]))} answered"
