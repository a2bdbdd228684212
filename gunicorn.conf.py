"""Gunicorn reads this from its working directory (both `make run`'s Procfile and the compose web
service start it there): the worker model, the request limits, and its own and access logs
shaped like the app's."""

import os

# Threads, not processes, per request: a request waiting for a run (GET .../tasks/{id}?wait=30)
# holds one idle thread, sleeping on a Redis socket, not a whole process. With gthread workers
# gunicorn's `timeout` watches the process, not the request, so a 30 s wait is not killed.
# README "Watching runs from a program" says how to size WEB_CONCURRENCY x WEB_THREADS.
# gthread itself, except that the requests it cannot parse get JSON errors like the API's.
worker_class = "config.gunicorn_worker.JsonErrorsThreadWorker"
_threads = os.environ.get("WEB_THREADS") or "8"
if not _threads.isdigit() or int(_threads) < 1:
    raise SystemExit(f"WEB_THREADS={_threads!r} must be a whole number of at least 1.")
threads = int(_threads)

# The request line and headers gunicorn reads (its defaults, pinned): past them it answers 414 or
# 431, in JSON naming the limit (config/gunicorn_worker.py). Caddy, in front in compose
# (deploy/Caddyfile), accepts up to 1 MB of request line and headers (Go's DefaultMaxHeaderBytes,
# Caddy's max_header_size default), more than these allow together (4 KB + 100 x 8 KB), so a
# request too large for gunicorn still reaches it and gets the JSON answer, not Caddy's own.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The control socket (gunicornc) under the app's own var/ (VAR_DIR, as the settings read it), not
# under the user's home: make run leaves nothing outside the checkout, and the image's user has
# a writable /app/var but no home.
control_socket = os.path.join(
    os.environ.get("VAR_DIR") or os.path.join(os.path.dirname(__file__), "var"), "gunicorn.ctl"
)

_FORMATTERS = {"json": "config.logs.JsonFormatter", "bare": "config.logs.BareFormatter"}
_FORMATTER = _FORMATTERS.get(os.environ.get("LOG_FORMAT", ""), "config.logs.PlainFormatter")

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
