"""Record launches that bypass our launch path: beat schedules, `celery call`, raw publishes."""

import logging

from celery.signals import before_task_publish

from tasks_api.registry import catalog
from tasks_api.services.launches import LAUNCH_RECORDED_HEADER, task_launch_record_external

logger = logging.getLogger(__name__)


@before_task_publish.connect(dispatch_uid="tasks_api.record_external_launch")
def record_external_launch(sender: str, headers: dict, body: tuple, **_: object) -> None:
    # Only catalog tasks are runs; housekeeping (the reconciler, beat's cleanup) is not.
    if headers.get(LAUNCH_RECORDED_HEADER) or sender not in catalog():
        return
    _args, kwargs, _embed = body
    try:
        task_launch_record_external(
            task_id=headers["id"],
            task_type=sender,
            params=kwargs,
            periodic_task_name=headers.get("periodic_task_name") or "",
        )
    except Exception:
        # An audit record must never stop beat from publishing the task itself.
        logger.exception("Could not record the launch of %s %s", sender, headers.get("id"))
