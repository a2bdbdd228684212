"""Log records that name their Celery task, as plain text locally or one JSON object per line."""

import json
import logging
from datetime import UTC, datetime

from celery import current_task


class TaskContextFilter(logging.Filter):
    """Adds task_id and task_type to every record logged while a task runs (else None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task
        request_id = task.request.id if task else None
        record.task_id = request_id
        record.task_type = task.name if request_id else None
        return True


class PlainFormatter(logging.Formatter):
    fields = "%(levelname)s %(name)s%(task)s %(message)s"

    def __init__(self) -> None:
        super().__init__(f"%(asctime)s {self.fields}")

    def format(self, record: logging.LogRecord) -> str:
        task_id = getattr(record, "task_id", None)
        record.task = f" [{getattr(record, 'task_type', '')} {task_id}]" if task_id else ""
        return super().format(record)


class BareFormatter(PlainFormatter):
    """Plain, without a time: for a supervisor that stamps every line itself (make run's
    scripts/supervise.py), so that each line carries one clock, not two."""

    def __init__(self) -> None:
        logging.Formatter.__init__(self, self.fields)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "task_id": getattr(record, "task_id", None),
            "task_type": getattr(record, "task_type", None),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
