"""Launching a catalog task from raw params: the one validation every launch surface shares.

The API, the admin's launch form, the companies' sync actions and beat's "Run now" all call
task_launch_validated, so they accept, default and refuse exactly the same params, and all of
them refuse a second run of a fan-out task type while one, or any of its children, is pending
or running.
"""

from functools import partial

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from tasks_api.models import TaskLaunch
from tasks_api.params import describe_errors_by_field
from tasks_api.registry import catalog, task_type_get
from tasks_api.services.launches import task_launch, task_relaunch
from tasks_api.states import FINISHED, UNFINISHED


class InvalidParams(ValueError):
    """The catalog's serializer refused the params; the sentences are the API's, per parameter."""

    def __init__(self, by_field: dict[str, list[str]]) -> None:
        self.by_field = by_field
        super().__init__("; ".join(self.sentences))

    @property
    def sentences(self) -> list[str]:
        return [sentence for sentences in self.by_field.values() for sentence in sentences]


class FanOutAlreadyRunning(InvalidParams):
    """A run of this fan-out task type, or one of its children, is still pending or running:
    one family at a time.

    An InvalidParams, so that every launch surface that already reports refused params (the
    admin's launch form and "Run now") reports this refusal too; the API answers it with 409.
    """

    def __init__(self, task_type: str, task_id: str) -> None:
        self.task_id = task_id
        sentence = f"{task_type} is already running as task {task_id}; wait for it to finish or revoke it"
        super().__init__({"task_type": [sentence]})


def task_launch_validated(*, task_type: str, data: object, user, periodic_task_name: str = "") -> TaskLaunch:
    """Validate `data` with the task type's serializer (defaults filled in), then launch as `user`.

    Raises UnknownTaskType, InvalidParams, FanOutAlreadyRunning (a fan-out type's run is still
    pending or running), or TaskLaunchFailed when the broker does not take the message.
    """
    spec = task_type_get(task_type)
    params = spec.params(data=data)
    if not params.is_valid():
        raise InvalidParams(describe_errors_by_field(params, params.errors))
    launch = partial(
        task_launch,
        task_type=task_type,
        params=params.task_kwargs(),
        launched_by=TaskLaunch.LaunchedBy.USER,
        user=user,
        periodic_task_name=periodic_task_name,
    )
    if not spec.fans_out:
        return launch()  # one INSERT: it commits (and is published) as it returns
    # The record commits (and is published) when this block ends, releasing the lock taken in it.
    with transaction.atomic():
        _refuse_if_active(task_type)
        return launch()


def task_relaunch_checked(*, launch: TaskLaunch, user) -> TaskLaunch:
    """Relaunch `launch` (same type, exactly the same params), one fan-out run at a time as for
    any launch. Raises FanOutAlreadyRunning, or TaskLaunchFailed."""
    known = catalog().get(launch.task_type)
    with transaction.atomic():
        if known and known.fans_out:
            _refuse_if_active(launch.task_type)
        return task_relaunch(launch=launch, user=user)


def _refuse_if_active(task_type: str) -> None:
    """A fan-out runs as a family: its parent, then its children until the last one finishes."""
    _lock_launches_of(task_type)
    unfinished = TaskLaunch.objects.exclude(status__in=FINISHED)
    child_running = Exists(unfinished.filter(parent_id=OuterRef("task_id")))
    active = TaskLaunch.objects.filter(task_type=task_type).filter(
        Q(status__in=UNFINISHED) | Q(child_running)
    )
    if task_id := active.order_by("-created_at").values_list("task_id", flat=True).first():
        raise FanOutAlreadyRunning(task_type, task_id)


def _lock_launches_of(task_type: str) -> None:
    """Make concurrent launches of `task_type` wait for this transaction, so that two requests
    cannot both find no active run and both launch one.

    PostgreSQL: a transaction-scoped advisory lock per task type (row locks could not help: when
    no run is active there is no row to lock). SQLite: a write that matches no row takes the
    database's single write lock now, before the read, instead of at the INSERT, where a
    concurrent writer would make this transaction fail with "database is locked".
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"tasks_api.launch:{task_type}"])
        elif connection.vendor == "sqlite":
            # The table's name is the only interpolation: no caller's input reaches this SQL.
            table = connection.ops.quote_name(TaskLaunch._meta.db_table)
            cursor.execute(f"UPDATE {table} SET task_type = task_type WHERE 0")  # noqa: S608
