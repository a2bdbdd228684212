"""Launching a catalog task from raw params: the one validation every launch surface shares.

The API, the admin's launch form, the companies' sync actions and beat's "Run now" all call
task_launch_validated, so they accept, default and refuse exactly the same params.
"""

from tasks_api.models import TaskLaunch
from tasks_api.params import describe_errors_by_field
from tasks_api.registry import task_type_get
from tasks_api.services.launches import task_launch


class InvalidParams(ValueError):
    """The catalog's serializer refused the params; the sentences are the API's, per parameter."""

    def __init__(self, by_field: dict[str, list[str]]) -> None:
        self.by_field = by_field
        super().__init__("; ".join(self.sentences))

    @property
    def sentences(self) -> list[str]:
        return [sentence for sentences in self.by_field.values() for sentence in sentences]


def task_launch_validated(*, task_type: str, data: object, user, periodic_task_name: str = "") -> TaskLaunch:
    """Validate `data` with the task type's serializer (defaults filled in), then launch as `user`.

    Raises UnknownTaskType, InvalidParams, or TaskLaunchFailed when the broker does not take
    the message.
    """
    params = task_type_get(task_type).params(data=data)
    if not params.is_valid():
        raise InvalidParams(describe_errors_by_field(params, params.errors))
    return task_launch(
        task_type=task_type,
        params=params.task_kwargs(),
        launched_by=TaskLaunch.LaunchedBy.USER,
        user=user,
        periodic_task_name=periodic_task_name,
    )
