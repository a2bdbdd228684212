"""Django settings for sii-tasks, read from the environment with safe local defaults.

Every variable is listed in README.md ("Configuration"). A bad value stops start-up with
an ImproperlyConfigured error that names the variable.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_secret, env_str
from config.navigation import model_link, page_link, page_link_if

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# General
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env_bool("DJANGO_DEBUG", False)
# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY",
    fallback_file=VAR_DIR / "secret_key",
    generate=lambda: secrets.token_urlsafe(50),
)
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto: trust it, and keep cookies HTTPS-only.
BEHIND_HTTPS_PROXY = env_bool("DJANGO_BEHIND_HTTPS_PROXY", False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# https://docs.djangoproject.com/en/5.2/topics/i18n/
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Santiago"  # the SII's official time zone; periods are Chilean months
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Apps
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#installed-apps
INSTALLED_APPS = [
    # The admin theme comes before django.contrib.admin: its templates override the stock ones.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "tasks_api",
    "sii",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The database down (a view's query, a token or session lookup): 503 with Retry-After, JSON
    # for the API, instead of a 500.
    "config.middleware.DatabaseOutageMiddleware",
    # An API body over TASKS_API_MAX_BODY_BYTES answers 413 JSON before anything reads it.
    "tasks_api.api.middleware.ApiRequestSizeMiddleware",
    # Static files (the admin's, the API docs') served by the app itself, compressed and cached.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
# https://whitenoise.readthedocs.io/
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it; whitenoise wants it to exist
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Admin console
# ------------------------------------------------------------------------------
# https://unfoldadmin.com/docs/configuration/settings/
# The operators' console is Django's admin under the unfold theme; its htmx and Chart.js are
# served from the theme's own static files (no CDN).
UNFOLD = {
    "SITE_TITLE": "sii-tasks",
    "SITE_HEADER": "sii-tasks",
    "SITE_SUBHEADER": "SII sync runs",
    "SITE_SYMBOL": "sync",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    # https://unfoldadmin.com/docs/configuration/dashboard/
    # The admin's home: tasks_api's sections (runs, workers, beat) and sii's failing companies.
    "DASHBOARD_CALLBACK": "config.dashboard.dashboard_callback",
    # https://unfoldadmin.com/docs/configuration/sidebar/
    # Each link is shown only to users who may open it; "All applications" lists every model.
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "items": [
                    page_link("admin:index", "Dashboard", "dashboard"),
                    model_link("tasks_api.tasklaunch", "Task runs", "play_circle"),
                    page_link("admin:workers", "Workers & queues", "dns", "tasks_api.view_tasklaunch"),
                ],
            },
            {
                "title": "SII",
                "items": [
                    model_link("sii.company", "Companies", "apartment"),
                    # Only while SII_MODE=simulator: its fault switches, to watch failures on purpose.
                    page_link_if(
                        "admin:sii_simulator_faults",
                        "SII simulator faults",
                        "science",
                        "sii.admin.simulator.simulator_page_visible",
                    ),
                ],
            },
            {
                "title": "Synced documents",
                "collapsible": True,
                "items": [
                    model_link("sii.purchasedocument", "Purchases", "shopping_cart"),
                    model_link("sii.saledocument", "Sales", "sell"),
                    model_link("sii.rcvsummary", "RCV summaries", "summarize"),
                    model_link("sii.feereceipt", "Fee receipts", "receipt_long"),
                    model_link("sii.f29declaration", "F29 declarations", "description"),
                ],
            },
            {
                "title": "Schedules",
                "collapsible": True,
                "items": [
                    model_link("django_celery_beat.periodictask", "Periodic tasks", "event_repeat"),
                    model_link("django_celery_beat.crontabschedule", "Crontabs", "schedule"),
                    model_link("django_celery_beat.intervalschedule", "Intervals", "timer"),
                    model_link("django_celery_beat.clockedschedule", "Clocked", "alarm"),
                    model_link("django_celery_beat.solarschedule", "Solar events", "wb_sunny"),
                ],
            },
            {
                "title": "Results",
                "collapsible": True,
                "items": [
                    model_link("django_celery_results.taskresult", "Task results", "fact_check"),
                    model_link("django_celery_results.groupresult", "Group results", "workspaces"),
                ],
            },
            {
                "title": "Accounts",
                "collapsible": True,
                "items": [
                    model_link("auth.user", "Users", "person"),
                    model_link("auth.group", "Groups", "group"),
                    model_link("knox.authtoken", "API tokens", "key"),
                ],
            },
        ],
    },
}

# Database
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# https://github.com/jazzband/dj-database-url
# Default: an SQLite file under var/, so nothing needs installing to try the project.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            # Persistent connections in web and worker processes (the worker's Django
            # fixup closes them between tasks only when they outlive this age).
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share the file: readers never wait for the writer (WAL), and a
    # transaction takes the write lock when it begins (IMMEDIATE), so it waits its turn for up to
    # `timeout` seconds; a deferred one that reads, then writes after another writer committed,
    # fails at once with "database is locked" whatever the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles a plan when its estimated cost is high: 1-2 s per query for the
    # dashboard's grouped reads over a busy day, and never paid back by these short queries.
    # A DATABASE_URL with its own ?options= keeps them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # A server that drops packets (a host gone, a firewall) fails a connection in seconds, as a
    # stopped one does, instead of after TCP's two minutes: requests answer 503 at once.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
    )
# While the database is unreachable, requests answer 503 with this Retry-After (config/middleware.py).
DATABASE_OUTAGE_RETRY_AFTER_SECONDS = 5

# Authentication
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#auth-password-validators
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# https://docs.djangoproject.com/en/5.2/ref/settings/#authentication-backends
# Django's model backend, loading a user's permissions in one query instead of two: every API
# request checks one.
AUTHENTICATION_BACKENDS = ["tasks_api.api.authentication.ModelBackend"]

# Cache
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/cache/
# "default" is per process. "shared" is what every web process and worker must agree on (the
# launch rate, the workers' stats snapshots): Redis when REDIS_URL is set; else files under var/,
# which the embedded default's web and worker processes share on one machine.
_REDIS_URL = env_str("REDIS_URL", "")
# Every call to Redis (this cache, launch rates, run notifications, metrics) and to the broker
# waits at most this long to connect and this long for each answer: a dead or mute server fails a
# request within about this, and a request's calls skip it for TASKS_API_PUBLISH_BREAKER_SECONDS
# after that (tasks_api/redis_clients.py). CELERY_BROKER_SOCKET_TIMEOUT is its former name.
REDIS_TIMEOUT = env_float(
    "REDIS_TIMEOUT", env_float("CELERY_BROKER_SOCKET_TIMEOUT", 1.0, minimum=0.1), minimum=0.1
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _REDIS_URL,
            "KEY_PREFIX": "sii-tasks",
            # A dead or mute Redis fails a request fast instead of hanging it.
            "OPTIONS": {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT},
        }
        if _REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    ),
}

# REST API
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's tokens, checked in one query (knox's own class takes two per request)
        "tasks_api.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tasks_api.api.parsers.GuardedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tasks_api.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# https://jazzband.github.io/django-rest-knox/settings/
# API tokens are stored hashed; they last until revoked (revoke_api_token) unless a TTL is set.
_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 0, minimum=0)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=_TOKEN_TTL_DAYS) if _TOKEN_TTL_DAYS else None,
    "AUTH_HEADER_PREFIX": "Token",
}
# The launchable task types: a sequence of tasks_api.registry.TaskType, named by dotted path.
TASKS_API_CATALOG = "sii.catalog.CATALOG"
# Worker stats: every worker pushes a snapshot of its tasks into this cache this often; the stats
# API reads them there, so its data is at most this old (a killed worker's stays 2.5 times this).
TASKS_API_STATS_PUSH_SECONDS = env_float("TASKS_API_STATS_PUSH_SECONDS", 2.0, minimum=0.5)
TASKS_API_STATS_CACHE = "shared"
# How long the health check's ping waits for a worker's reply.
TASKS_API_STATS_TIMEOUT = env_float("TASKS_API_STATS_TIMEOUT", 1.0, minimum=0.05)
# Launches per user, as DRF rates say it ("60/min", "1000/day"); status polling is never throttled.
TASKS_API_LAUNCH_RATE = env_str("API_LAUNCH_RATE", "60/min")
_launches, _, _per = TASKS_API_LAUNCH_RATE.partition("/")
if not (_launches.isascii() and _launches.isdigit() and _per[:1] in ("s", "m", "h", "d")):
    raise ImproperlyConfigured(f"API_LAUNCH_RATE={TASKS_API_LAUNCH_RATE!r} is not a rate like 60/min.")
# The cache counting launches: one the web processes share (Redis) makes the rate hold across them.
TASKS_API_THROTTLE_CACHE = "shared"
# Requests under this path answer errors as JSON {"detail": ...}, never as an HTML page.
TASKS_API_PATH_PREFIX = "/api/"
# The largest request body accepted, in bytes: larger API requests answer 413 (JSON); Django's
# own limit (forms, the admin) is the same.
TASKS_API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = TASKS_API_MAX_BODY_BYTES
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "sii-tasks API",
    "DESCRIPTION": "Launch, watch, revoke and inspect the Celery tasks that sync SII data.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc assets served from this app, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TAGS": [{"name": "Celery Tasks", "description": "Launch and follow background tasks."}],
    # drf-spectacular's enum naming, then the 414/431/503 that any operation may answer.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.edge_error_responses",
    ],
}

# Celery
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# Broker: Redis (or any kombu URL) in deployments; kombu's file-system transport locally.
# The file-system transport ignores the host; naming one spares a kombu warning per connection.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", env_str("REDIS_URL", "filesystem://localhost/"))
_BROKER_DIR = VAR_DIR / "broker"
SII_SYNC_SOFT_TIME_LIMIT = env_int("SII_SYNC_SOFT_TIME_LIMIT", 600, minimum=1)
SII_SYNC_TIME_LIMIT = env_int("SII_SYNC_TIME_LIMIT", 660, minimum=1)
if SII_SYNC_TIME_LIMIT <= SII_SYNC_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("SII_SYNC_TIME_LIMIT must be greater than SII_SYNC_SOFT_TIME_LIMIT.")
# RabbitMQ: a dead worker's unacknowledged messages come back the moment its connection drops,
# so it needs no visibility timeout. https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/rabbitmq.html
BROKER_IS_AMQP = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    # A message not acked within this time is redelivered: keep it longer than the longest
    # hard time limit, or a slow task would run twice.
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
    "visibility_timeout": SII_SYNC_TIME_LIMIT * 2 + 600,
    # Socket timeouts so that a publish to a dead or mute broker fails instead of hanging.
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
}
if BROKER_IS_AMQP:
    # py-amqp's names for the same socket timeouts; publisher confirms: a publish returns once
    # the broker has the message (on a quorum queue: on a majority of its nodes).
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.pyamqp.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "read_timeout": REDIS_TIMEOUT,
        "write_timeout": REDIS_TIMEOUT,
        "confirm_publish": True,
    }
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The same transport, with messages written whole before a worker can see them (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_BROKER_DIR / "out"),
            "data_folder_out": str(_BROKER_DIR / "out"),
            "processed_folder": str(_BROKER_DIR / "processed"),
            "store_processed": False,
            "control_folder": str(_BROKER_DIR / "control"),  # broadcast: revoke, inspect
            # Directory polling: 0.2 s keeps launches snappy and a warm shutdown within seconds.
            "polling_interval": 0.2,
        }
    )
    for _folder in ("out", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing retries briefly, then fails: a caller gets an error within seconds, not a hang.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Results in the database (django-celery-results), with name, args and worker recorded.
CELERY_RESULT_BACKEND = "tasks_api.worker.results:RecordedDatabaseBackend"
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
# Result writes wait through a database outage for TASKS_API_DATABASE_WAIT_SECONDS (below), by
# time rather than Celery's count of attempts (tasks_api.worker.results).
# Runs, their attempts and results go after TASKS_API_RETENTION_DAYS (tasks_api/services/retention.py,
# by the reconciler), not by Celery's own daily cleanup: it would delete the result of a run kept as
# its company's latest. CELERY_RESULT_EXPIRES_DAYS is the setting's former name; 0 keeps everything.
TASKS_API_RETENTION_DAYS = env_int(
    "TASKS_API_RETENTION_DAYS", env_int("CELERY_RESULT_EXPIRES_DAYS", 90, minimum=0), minimum=0
)
CELERY_RESULT_EXPIRES = None
CELERY_TASK_TRACK_STARTED = True
# Late acks + reject on worker loss: a task whose worker dies is redelivered, not lost.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-reject-on-worker-lost
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On a lost broker connection, running tasks finish and store their result in the database; the
# message they could not acknowledge comes back later, and the worker skips it (claims, below).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# On SIGINT/SIGQUIT (and SIGTERM where REMAP_SIGTERM=SIGQUIT, as under `make run`, whose
# process manager signals whole process groups) running tasks get this long to finish; then
# the worker stops them and hands their unacknowledged messages back to the broker.
# https://docs.celeryq.dev/en/stable/userguide/workers.html#soft-shutdown
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env_float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 3.0)
CELERY_TASK_SOFT_TIME_LIMIT = SII_SYNC_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = SII_SYNC_TIME_LIMIT
# https://docs.celeryq.dev/en/stable/userguide/routing.html
# SII work has its own queue, as in the original service, so it can get its own workers. The
# queues are named here only: a worker started without -Q consumes every one of them, and the
# API's stats report the length of each.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SII_QUEUE = "sii"
# Users' launches of SII tasks (API, admin, relaunches) go here instead of `sii`, so a "sync this
# company now" never waits behind a night's thousands of fan-out children (README "How to scale").
SII_ONDEMAND_QUEUE = "sii_ondemand"
# The order workers without -Q take work in: on Redis strictly (queue_order_strategy, below), so
# on-demand runs first, then the reconciler, then the children; with -Q, the order given there.
_QUEUE_ORDER = (SII_ONDEMAND_QUEUE, CELERY_TASK_DEFAULT_QUEUE, SII_QUEUE)
CELERY_TASK_QUEUES = [Queue(name) for name in _QUEUE_ORDER]
if BROKER_IS_AMQP:
    # Quorum queues: replicated and durable. Topic exchanges, because countdowns (SII retries,
    # runs retried after an outage) wait in the broker's "celery_delayed_*" queues, which route
    # back by topic; direct exchanges would make a worker hold each delayed task in memory.
    # Celery then turns off global QoS (worker_detect_quorum_queues) and binds those queues.
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/rabbitmq.html#using-quorum-queues
    CELERY_TASK_QUEUES = [
        Queue(
            name, Exchange(name, type="topic"), routing_key=name, queue_arguments={"x-queue-type": "quorum"}
        )
        for name in _QUEUE_ORDER
    ]
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE = "quorum"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
else:
    # kombu's Redis transport asks for the consumed queues in one BRPOP, in the order consumed
    # (priority: always that order; round_robin would put the queue just taken last). The file
    # system's transport ignores it and takes its queues in turn.
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html
    CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] = "priority"
CELERY_TASK_ROUTES = {"sii.*": {"queue": SII_QUEUE}}
# A user's launch of a task routed to a queue named here goes to the queue it maps to (tasks_api).
TASKS_API_ONDEMAND_QUEUES = {SII_QUEUE: SII_ONDEMAND_QUEUE}
CELERY_WORKER_SEND_TASK_EVENTS = False
# The worker logs through Django's LOGGING (below), so its lines carry task ids and honour LOG_FORMAT.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Runs: claims, lost deliveries and the reconciler (tasks_api/services/reconcile.py)
# ------------------------------------------------------------------------------
# A control-plane write (a state, an attempt, a claim, a result) waits this long through a
# database outage (backoff from 0.5 s to 10 s) before giving up.
TASKS_API_DATABASE_WAIT_SECONDS = env_int("TASKS_API_DATABASE_WAIT_SECONDS", 300, minimum=5)
# A run interrupted by database outages starts again later (5 s doubling, at most 2 min apart) for
# up to this long since the first one, then fails saying so.
TASKS_API_OUTAGE_RETRY_SECONDS = env_int("TASKS_API_OUTAGE_RETRY_SECONDS", 3600, minimum=60)
# A run whose worker died this many times is failed instead of delivered again.
TASKS_API_MAX_LOST_DELIVERIES = env_int("TASKS_API_MAX_LOST_DELIVERIES", 3, minimum=1)
# How often the reconciler runs, and how long a claim is trusted before its holder is checked.
TASKS_API_RECONCILE_SECONDS = env_int("TASKS_API_RECONCILE_SECONDS", 30, minimum=5)
TASKS_API_ORPHAN_AFTER_SECONDS = env_int("TASKS_API_ORPHAN_AFTER_SECONDS", 30, minimum=5)
# A run still waiting this long after its publish is published again (after the shorter wait
# when every queue is empty: then its message is surely lost).
TASKS_API_REPUBLISH_AFTER_SECONDS = env_int("TASKS_API_REPUBLISH_AFTER_SECONDS", 1800, minimum=60)
TASKS_API_LOST_AFTER_SECONDS = env_int("TASKS_API_LOST_AFTER_SECONDS", 60, minimum=5)
# A retry not delivered this long after it was due (its attempt's retry time) is published
# again, once; a retry with no due time recorded (an earlier release's), this long after it was
# scheduled (longer than the longest retry countdown).
TASKS_API_RETRY_GRACE_SECONDS = env_int("TASKS_API_RETRY_GRACE_SECONDS", 60, minimum=5)
TASKS_API_RETRY_STALE_SECONDS = env_int("TASKS_API_RETRY_STALE_SECONDS", 2100, minimum=60)
# After a publish the broker refused, further publishes fail at once for this long (0: never);
# after any call to a Redis (or the broker) failed, so do the calls to it that a request can skip.
TASKS_API_PUBLISH_BREAKER_SECONDS = env_float("TASKS_API_PUBLISH_BREAKER_SECONDS", 10.0, minimum=0)
CELERY_BEAT_SCHEDULE = {
    "reconcile task runs": {
        "task": "tasks_api.reconcile_runs",
        "schedule": TASKS_API_RECONCILE_SECONDS,
        # A pass that waited in the queue past the next one's time is dropped, not run late.
        "options": {"expires": TASKS_API_RECONCILE_SECONDS},
    }
}
# https://django-celery-beat.readthedocs.io/
CELERY_BEAT_SCHEDULER = "tasks_api.worker.beat:LeasedDatabaseScheduler"
# Only the beat holding this lease (a database row) sends schedules; a standby takes over this long
# after the holder stops renewing it.
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 30, minimum=5)
# Every tick touches this file, leader or standby: compose's beat health check wants it fresh.
BEAT_HEARTBEAT_FILE = VAR_DIR / "beat.heartbeat"

# API: waiting for a run, run history, idempotent launches (README "Watching runs from a program")
# ------------------------------------------------------------------------------
# https://redis.io/docs/latest/develop/interact/pubsub/
# GET /api/celery/tasks/{id}?wait=N answers when the run finishes or after N seconds (at most
# this many): finishing runs publish on a Redis channel, and the waiting request sleeps on it.
TASKS_API_WAIT_MAX_SECONDS = 30
# Where runs announce that they finished: REDIS_URL, else the broker when it is Redis. Empty
# (the embedded default) means no notifications: a wait checks the run every few seconds instead.
TASKS_API_NOTIFY_REDIS_URL = _REDIS_URL or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
# Seconds between those checks without Redis (the database connection is closed in between).
TASKS_API_WAIT_CHECK_SECONDS = env_float("API_WAIT_CHECK_SECONDS", 2.0, minimum=0.1)
# Runs per page of the run history and of a fan-out's children (page_size may ask up to the max).
TASKS_API_PAGE_SIZE = 50
TASKS_API_MAX_PAGE_SIZE = 500
# How long an Idempotency-Key replays its first answer; the reconciler deletes older keys.
TASKS_API_IDEMPOTENCY_HOURS = 24
# One name for the task states wherever the schema lists them (status answers, runs, filters).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "TaskStateEnum": "tasks_api.states.STATUSES",
    "LaunchedStateEnum": ["PENDING"],
    "RevokedStateEnum": ["revoked"],
}

# Metrics: GET /metrics in the Prometheus text format (README "Metrics")
# ------------------------------------------------------------------------------
# https://prometheus.io/docs/prometheus/latest/configuration/configuration/#scrape_config
# The scraper sends `Authorization: Bearer <METRICS_TOKEN>`; empty (the default) turns /metrics off (404).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN.startswith("change-me"):
    raise ImproperlyConfigured("METRICS_TOKEN is still the placeholder from .env.example; set a real token.")
# Where every process's counts add up: the Redis above (REDIS_URL, else a Redis broker), else the database.
TASKS_API_METRICS_REDIS_URL = TASKS_API_NOTIFY_REDIS_URL

# SII
# ------------------------------------------------------------------------------
# simulator: the bundled SII simulator (python manage.py run_sii_simulator); live: sii.cl.
SII_MODE = env_choice("SII_MODE", "simulator", ["simulator", "live"])
SII_SIMULATOR_URL = env_str("SII_SIMULATOR_URL", "http://127.0.0.1:8001").rstrip("/")
_SII_LIVE_URLS = {
    "auth": "https://zeusr.sii.cl",
    "rcv": "https://www4.sii.cl",
    "bhe": "https://loa.sii.cl",
}
SII_BASE_URLS = {
    surface: env_str(f"SII_{surface.upper()}_URL", live if SII_MODE == "live" else SII_SIMULATOR_URL)
    for surface, live in _SII_LIVE_URLS.items()
}
SII_HTTP_TIMEOUT = env_int("SII_HTTP_TIMEOUT", 30, minimum=1)
# Seconds between SII requests of one session; mature clients pace at one request a second.
SII_REQUEST_INTERVAL = env_float("SII_REQUEST_INTERVAL", 1.0 if SII_MODE == "live" else 0.0)
# Transient SII errors retry at most SII_MAX_RETRIES times, waiting about
# SII_RETRY_BACKOFF x 2^n seconds (with jitter) before retry n.
SII_MAX_RETRIES = env_int("SII_MAX_RETRIES", 3, minimum=0)
SII_RETRY_BACKOFF = env_int("SII_RETRY_BACKOFF", 30, minimum=1)
# The SII governor (sii/governor; README "How to scale"): every request to the SII, from every
# worker on every host, takes its turn on its surface's pace (requests a second; zeusr's logins,
# www4's RCV and F29, loa's BHE), with at most SII_RATE_BURST at once after a quiet spell. The SII
# publishes no limit: the live defaults fit a night of 10,000 companies in about 6 hours; the
# simulator's let a demo or a rehearsal go fast.
_SII_RATES = (
    {"auth": 2.0, "rcv": 12.0, "bhe": 4.0}
    if SII_MODE == "live"
    else {"auth": 50.0, "rcv": 100.0, "bhe": 50.0}
)
SII_RATES = {
    surface: env_float(f"SII_RATE_{surface.upper()}", default, minimum=0.01)
    for surface, default in _SII_RATES.items()
}
SII_RATE_BURST = env_int("SII_RATE_BURST", 1, minimum=1)
# The breaker: SII_BREAKER_THRESHOLD answers in a row saying the SII cannot answer (its "por el
# momento" page, 5xx, timeouts, dropped connections) pause the surface for every sync; one probe
# tests it after SII_BREAKER_BACKOFF seconds, then twice as long each time, up to SII_BREAKER_MAX_BACKOFF.
SII_BREAKER_THRESHOLD = env_int("SII_BREAKER_THRESHOLD", 5, minimum=1)
SII_BREAKER_BACKOFF = env_float("SII_BREAKER_BACKOFF", 2.0, minimum=1.0)
SII_BREAKER_MAX_BACKOFF = env_float("SII_BREAKER_MAX_BACKOFF", 60.0, minimum=1.0)
if SII_BREAKER_MAX_BACKOFF < SII_BREAKER_BACKOFF:
    raise ImproperlyConfigured("SII_BREAKER_MAX_BACKOFF must be at least SII_BREAKER_BACKOFF.")
# A paused sync waits in place this long, then gives its worker back and tries again later; it
# fails once the SII has been unavailable to it for SII_PAUSE_MAX_SECONDS.
SII_PAUSE_WAIT_SECONDS = env_float("SII_PAUSE_WAIT_SECONDS", 60.0, minimum=1.0)
SII_PAUSE_MAX_SECONDS = env_int("SII_PAUSE_MAX_SECONDS", 6 * 3600, minimum=60)
# A company's SII session is kept (encrypted with SII_CREDENTIALS_KEY) and reused by its next syncs
# for this long after its login, below the two hours integrators keep one; 0: log in and out each sync.
SII_SESSION_MAX_AGE = env_int("SII_SESSION_MAX_AGE", 90 * 60, minimum=0)
# Where the governor keeps its paces and breakers: the Redis every host shares (as for the
# notifications above), else files under VAR_DIR (one host: the embedded default).
SII_GOVERNOR_REDIS_URL = TASKS_API_NOTIFY_REDIS_URL
SII_GOVERNOR_DIR = VAR_DIR / "sii-governor"
# Fernet keys for companies' SII passwords at rest: SII_CREDENTIALS_KEY encrypts; it and the
# comma-separated SII_CREDENTIALS_OLD_KEYS decrypt, so a key can be rotated without downtime
# (README "Rotating the SII credentials key"; manage.py rotate_sii_keys).
# https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
SII_CREDENTIALS_KEY = env_secret(
    "SII_CREDENTIALS_KEY",
    fallback_file=VAR_DIR / "sii_credentials.key",
    generate=lambda: Fernet.generate_key().decode(),
)
SII_CREDENTIALS_OLD_KEYS = env_list("SII_CREDENTIALS_OLD_KEYS", [])
_credentials_keys = [("SII_CREDENTIALS_KEY", SII_CREDENTIALS_KEY)] + [
    (f"SII_CREDENTIALS_OLD_KEYS (key {n})", key) for n, key in enumerate(SII_CREDENTIALS_OLD_KEYS, 1)
]
for _variable, _key in _credentials_keys:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(f"{_variable} must be a Fernet key (32 url-safe base64 bytes).") from None
# How many fan-out children an all-companies task publishes per batch.
SII_FANOUT_BATCH_SIZE = env_int("SII_FANOUT_BATCH_SIZE", 500, minimum=1)
# A company's data of a surface (RCV purchases, sales, fee receipts, F29) is stale once its last
# successful sync is older than this: the dashboard's card, the companies' filter, /metrics'
# sii_companies_stale and the SiiDataStale alert. A day, plus how much later than the night before
# a night's syncs may reach a company.
SII_FRESHNESS_TARGET_HOURS = env_int("SII_FRESHNESS_TARGET_HOURS", 26, minimum=1)

# SII simulator (python manage.py run_sii_simulator; README "The SII client and the simulator")
# ------------------------------------------------------------------------------
# https://docs.python.org/3/library/socketserver.html#socketserver.ThreadingMixIn
# Seconds each simulated SII request takes, give or take half (the same request always waits the
# same): `make run` sets 0.2 so a demo sync can be watched. 0 elsewhere; tests build their own.
SII_SIMULATOR_LATENCY = env_float("SII_SIMULATOR_LATENCY", 0.0)

# Logging
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
# plain: human-readable lines; json: one JSON object per line (production, log collectors);
# bare: plain without the time, for a supervisor that stamps lines itself (make run's scripts/supervise.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ["plain", "json", "bare"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"task_context": {"()": "config.logs.TaskContextFilter"}},
    "formatters": {
        "plain": {"()": "config.logs.PlainFormatter"},
        "json": {"()": "config.logs.JsonFormatter"},
        "bare": {"()": "config.logs.BareFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["task_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request line at INFO; the client logs what matters itself.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# Error reporting (Sentry)
# ------------------------------------------------------------------------------
# https://docs.sentry.io/platforms/python/integrations/django/
# Optional: with SENTRY_DSN set, web, worker and beat report unhandled errors (and ERROR log
# lines) there, with SII passwords, keys, API tokens and cookies scrubbed (config/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_RELEASE = env_str("SENTRY_RELEASE", "") or None
# The share of requests and tasks traced for performance (0: errors only).
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
if SENTRY_TRACES_SAMPLE_RATE > 1:
    raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE={SENTRY_TRACES_SAMPLE_RATE} must be at most 1.")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        secrets=[SECRET_KEY, SII_CREDENTIALS_KEY, *SII_CREDENTIALS_OLD_KEYS, METRICS_TOKEN],
    )
