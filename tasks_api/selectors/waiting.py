"""A run's status once it finishes, waiting at most so long, without a database connection meanwhile.

With Redis (tasks_api.runs.notifications) the request subscribes to the run's channel first,
then reads the status (so a finish between the two cannot be missed) and sleeps on the Redis
socket; it reads the status again when woken or at the end. It keeps its database connection for
the first CONNECTION_HOLD_SECONDS (most runs a program waits on finish within moments, and a
reconnect would cost more than the run) and releases it past that.
Without Redis it checks every settings.TASKS_API_WAIT_CHECK_SECONDS, connection closed in between.
"""

from time import monotonic, sleep

from django.conf import settings
from django.db import connection

from tasks_api.runs.notifications import FinishListener, run_finished_listener
from tasks_api.selectors.status import task_status_get
from tasks_api.states import FINISHED

CONNECTION_HOLD_SECONDS = 1.0


def task_status_wait(*, task_id: str, seconds: float) -> dict:
    """The status as task_status_get says it, as soon as the run has finished or after
    `seconds`; at once for an id nobody launched (nothing could ever finish it)."""
    deadline = monotonic() + seconds
    with run_finished_listener(task_id=task_id) as listener:
        answer = task_status_get(task_id=task_id)
        if is_settled(answer):
            return answer
        if listener is not None:
            woken = _listened(task_id, listener, deadline)
            if woken is not None:
                return woken
    connection_release()
    return _checked(task_id, deadline)


def is_settled(answer: dict) -> bool:
    """Nothing more will happen to it: finished, or unknown (nobody launched it)."""
    return answer["status"] in FINISHED or answer["unknown"]


def connection_release() -> None:
    """Close this thread's database connection while the request sleeps; the next query opens
    one. Never inside a transaction (closing would roll it back): then it stays open."""
    if not connection.in_atomic_block:
        connection.close()


def _listened(task_id: str, listener: FinishListener, deadline: float) -> dict | None:
    """Sleep on the subscription; the status once notified (and finished) or at the deadline.
    None when Redis went away: the caller goes on checking instead."""
    timeout = min(CONNECTION_HOLD_SECONDS, deadline - monotonic())
    while True:
        notified = listener.wait(timeout=max(0.0, timeout))
        if notified is None:
            return None
        if notified or monotonic() >= deadline:
            answer = task_status_get(task_id=task_id)
            if is_settled(answer) or monotonic() >= deadline:
                return answer
        connection_release()  # held long enough, or a stray publish on the channel: sleep on
        timeout = deadline - monotonic()


def _checked(task_id: str, deadline: float) -> dict:
    """The fallback: a read every few seconds until the run finished or the deadline passed."""
    while True:
        sleep(max(0.0, min(settings.TASKS_API_WAIT_CHECK_SECONDS, deadline - monotonic())))
        answer = task_status_get(task_id=task_id)
        if is_settled(answer) or monotonic() >= deadline:
            return answer
        connection_release()
