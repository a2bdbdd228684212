"""tasks_api's own metrics: launches, finished runs and their durations, retries, and gauges.

Generic: a task type is a label (bounded by the catalog), never a domain's name in the code.
"""

from tasks_api.metrics import (
    COUNTER,
    DEFAULT_BUCKETS,
    GAUGE,
    HISTOGRAM,
    Family,
    counter_inc,
    family_declare,
    histogram_observe,
)
from tasks_api.metrics.gauges import (
    beat_lease_expiry_read,
    oldest_pending_age_read,
    queue_depth_read,
    workers_online_read,
)
from tasks_api.registry import catalog

# A task type outside the catalog (housekeeping, a stray `celery call`) is counted under this.
OTHER = "other"
FINISHED_STATES = ("SUCCESS", "FAILURE", "REVOKED")

LAUNCHES = family_declare(
    Family(
        "tasks_api_launches_total",
        "Launches recorded, by task type and by what launched them (user, beat, fanout, system).",
        COUNTER,
        ("task_type", "launched_by"),
    )
)
RUNS_FINISHED = family_declare(
    Family(
        "tasks_api_runs_finished_total",
        "Runs that reached a finished state (SUCCESS, FAILURE, REVOKED), once each.",
        COUNTER,
        ("task_type", "state"),
    )
)
RUN_DURATION = family_declare(
    Family(
        "tasks_api_run_duration_seconds",
        "Seconds a worker spent on a run that finished (SUCCESS or FAILURE), its last attempt.",
        HISTOGRAM,
        ("task_type",),
        DEFAULT_BUCKETS,
    )
)
RETRIES = family_declare(
    Family("tasks_api_retries_total", "Retries scheduled, by task type.", COUNTER, ("task_type",))
)
family_declare(
    Family(
        "tasks_api_queue_depth", "Messages waiting in each queue.", GAUGE, ("queue",), read=queue_depth_read
    )
)
family_declare(
    Family(
        "tasks_api_workers_online", "Workers whose stats snapshot is fresh.", GAUGE, read=workers_online_read
    )
)
family_declare(
    Family(
        "tasks_api_oldest_pending_launch_age_seconds",
        "Seconds since the oldest launch published but not yet started was published; 0 when none.",
        GAUGE,
        read=oldest_pending_age_read,
    )
)
family_declare(
    Family(
        "tasks_api_beat_lease_expiry_timestamp_seconds",
        "When beat's scheduler lease expires (unix seconds); 0 when no beat ever held it.",
        GAUGE,
        read=beat_lease_expiry_read,
    )
)


def task_type_label(task_type: str | None) -> str:
    return task_type if task_type and task_type in catalog() else OTHER


def launches_count(*, task_type: str, launched_by: str, count: int = 1) -> None:
    counter_inc(LAUNCHES, {"task_type": task_type_label(task_type), "launched_by": launched_by}, count)


def run_finished_count(*, task_type: str | None, state: str, duration: float | None = None) -> None:
    task_type = task_type_label(task_type)
    counter_inc(RUNS_FINISHED, {"task_type": task_type, "state": state})
    if duration is not None:
        histogram_observe(RUN_DURATION, {"task_type": task_type}, duration)


def run_retried_count(*, task_type: str) -> None:
    counter_inc(RETRIES, {"task_type": task_type_label(task_type)})
