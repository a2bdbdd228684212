"""Gunicorn reads this from its working directory: its own and access logs look like the app's."""

import os

_FORMATTER = (
    "config.logs.JsonFormatter" if os.environ.get("LOG_FORMAT") == "json" else "config.logs.PlainFormatter"
)

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task_context": {"()": "config.logs.TaskContextFilter"}},
    "formatters": {"app": {"()": _FORMATTER}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "app",
            "filters": ["task_context"],
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
