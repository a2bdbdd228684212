"""Settings of the processes `make bench` starts: production's, plus the two benchmark tasks.

Production's catalog stays the four sii task types; here it also has `bench.noop`, and the worker
imports benchmarks.tasks, where `bench.noop` (a RecordedTask) and `bench.bare` (a plain Celery
task, what Flower launches) live.
"""

from config.settings import *  # noqa: F403

TASKS_API_CATALOG = "benchmarks.catalog.CATALOG"
CELERY_IMPORTS = ["benchmarks.tasks"]
