# The two commands: `make run` (the whole system, embedded default) and `make test`.
# Both create the virtualenv from the requirements files when it is missing or stale.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# The suite runs against the real PostgreSQL and Redis (started by scripts/ensure-services.sh).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sii_tasks
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# The tests of hand-written SQL (claims, upserts, fan-out inserts, status, children, attempts,
# dashboard, results backend, reconciler) run again on SQLite, the embedded default `make run` uses.
SQLITE_TESTS ?= tests/tasks_api/test_claims.py tests/sii/test_upserts.py tests/tasks_api/test_fanout.py \
	tests/tasks_api/test_status_api.py tests/tasks_api/test_children_api.py tests/tasks_api/test_attempts_api.py \
	tests/tasks_api/test_dashboard_selectors.py tests/tasks_api/test_dashboard.py \
	tests/tasks_api/test_results_backend.py tests/tasks_api/test_reconcile.py tests/tasks_api/test_launches.py \
	tests/tasks_api/test_retention.py

# make run: ports of the web server and the SII simulator.
WEB_PORT ?= 8000
SII_SIMULATOR_PORT ?= 8001

.PHONY: run test faults lint format install bench bench-retention rehearse clean

$(BIN)/.installed: requirements.txt requirements-dev.txt requirements-bench.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# The whole system in the foreground (web, worker, beat, SII simulator) with one labelled log.
# Embedded default: SQLite and the file-system broker under var/; DATABASE_URL / REDIS_URL
# switch to PostgreSQL and Redis. Ctrl-C stops everything.
run: export WEB_PORT := $(WEB_PORT)
run: export SII_SIMULATOR_PORT := $(SII_SIMULATOR_PORT)
run: export SII_SIMULATOR_URL ?= http://127.0.0.1:$(SII_SIMULATOR_PORT)
# Demo syncs take a few seconds per period, so progress, revoke and terminate can be watched;
# `make run SII_SIMULATOR_LATENCY=0` for instant answers (README "The demo").
run: export SII_SIMULATOR_LATENCY ?= 0.2
# scripts/supervise.py stamps every line with its own clock: the processes print none of theirs.
run: export LOG_FORMAT ?= bare
run: export PATH := $(abspath $(BIN)):$(PATH)
run: $(BIN)/.installed
	python manage.py migrate --noinput --verbosity 0
	python manage.py collectstatic --noinput --verbosity 0
	python manage.py load_demo
	python manage.py demo_access
	exec python scripts/supervise.py Procfile

# TEST_WAIT_SCALE=3 (README "Tests") stretches every wait on a process: make passes a variable
# given on its command line, like one from the environment, on to pytest's environment.
test: $(BIN)/.installed
	scripts/ensure-services.sh
	scripts/ensure-debian-packages.sh chromium wrk promtool:prometheus
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)
	test -n "$(PYTEST_ARGS)" || DATABASE_URL=sqlite:///$(CURDIR)/var/test-sqlite.sqlite3 \
		REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -p no:cacheprovider -m "not e2e" $(SQLITE_TESTS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# make bench: this API beside Flower 2.2.0 on the production shape (gunicorn, one worker, PostgreSQL,
# Redis; Flower on the same Redis and worker) in alternating rounds, status growth, the upsert and
# fan-out benchmarks, then the admin dashboard. One table on stdout; var/bench/results.json and
# results.png. Its database is its own (dropped at the end); its Redis database is flushed.
# Every fault scenario FAULTS_TRIALS times (PostgreSQL outages of FAULTS_OUTAGE_SECONDS), then the
# table of scenarios, trials, how many held and their recovery times (artifacts/faults/table.md).
FAULTS_TRIALS ?= 10
FAULTS_OUTAGE_SECONDS ?= 5,30,60,120,240
faults: $(BIN)/.installed
	scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) FAULTS_TRIALS=$(FAULTS_TRIALS) \
		FAULTS_OUTAGE_SECONDS=$(FAULTS_OUTAGE_SECONDS) $(BIN)/pytest -p no:cacheprovider -m faults tests/faults $(PYTEST_ARGS)

# `make bench BENCH_ARGS=--smoke`: one round of short phases, smallest sizes (make test runs that).
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ARGS ?=
bench: $(BIN)/.installed
	scripts/ensure-services.sh
	scripts/ensure-debian-packages.sh wrk
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m benchmarks $(BENCH_ARGS)
	$(if $(findstring --smoke,$(BENCH_ARGS)),,DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python -m benchmarks.dashboard)

# make bench-retention: the reconciler's retention (runs_expire) over 10 million runs, in its own
# database (sii_tasks_bench_retention, dropped at the end), while a second process times a task's
# status and the console's pages. One table on stdout; var/bench/retention.json. About 45 minutes.
# `make bench-retention BENCH_ARGS=--smoke`: 20,000 runs (make test runs that).
bench-retention: $(BIN)/.installed
	scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m benchmarks.retention $(BENCH_ARGS)

# make rehearse: a night of 10,000 companies against the simulator (0.3 s a request) at the SII
# governor's caps, on PostgreSQL with Redis, then with RabbitMQ and a 5-minute SII outage midway
# (README "How to scale"). Its database is its own; its Redis database is flushed.
# `make rehearse REHEARSE_ARGS="--companies 2000 --brokers redis"` for a shorter one; make test runs --smoke.
REHEARSE_REDIS_URL ?= redis://127.0.0.1:6379/13
REHEARSE_ARGS ?=
rehearse: $(BIN)/.installed
	scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(REHEARSE_REDIS_URL) $(BIN)/python -m benchmarks.rehearsal $(REHEARSE_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
