#!/usr/bin/env bash
# `make test` with every process's clock set to CLOCK (UTC, e.g. "2026-12-08 05:30:00", which is
# 02:30 in Santiago): proves no test depends on the time of day.
#
# libfaketime (the build python-libfaketime vendors, a requirement of make test; Debian's 0.9.10
# breaks Python's timed waits) shifts the clock of this command and every process it starts
# (workers, web servers, the fault tests' throwaway servers); the clock then runs on from CLOCK.
# The shared PostgreSQL keeps the real clock, and the database's now() must agree with the
# processes' (claims, leases), so the suite gets a PostgreSQL of its own, started under the same
# clock on a free port and removed at the end. Not faked: Go binaries (Caddy reads the kernel's
# clock, so its certificates look issued in another day: the proxy's tests cannot pass here) and
# the file system's timestamps (beat's heartbeat file looks stale to a shifted health check). Redis and RabbitMQ only count relative times, and
# Redis's allocator (jemalloc) cannot start under libfaketime: redis-server and redis-cli run on
# the real clock, through wrappers put first on PATH.
set -euo pipefail

clock="${1:?usage: scripts/test-at-clock.sh "YYYY-MM-DD HH:MM:SS" (UTC) [make test arguments]}"
shift
make install >/dev/null
lib_dir="$(.venv/bin/python -c 'import libfaketime, os; print(os.path.join(os.path.dirname(libfaketime.__file__), "vendor", "libfaketime", "src"))')"
pg_bin="/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin"
data_dir="$(mktemp -d /tmp/sii-tasks-clock.XXXXXX)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
chown postgres "$data_dir"
bin_dir="$(mktemp -d /tmp/sii-tasks-clock-bin.XXXXXX)"
for command in redis-server redis-cli; do
  printf '#!/bin/sh\nexec env -u LD_PRELOAD -u FAKETIME %s "$@"\n' "$(command -v "$command")" >"$bin_dir/$command"
  chmod +x "$bin_dir/$command"
done
export PATH="$bin_dir:$PATH"
# An offset, not an absolute time: libfaketime reads "@time" in each process's own time zone, and
# Django sets TZ in the processes the tests start. Monotonic clocks stay real: timeouts and
# sleeps measure true durations.
offset=$(( $(date -u -d "$clock" +%s) - $(date -u +%s) ))
export FAKETIME="$(printf "%+d" "$offset")" DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 FAKETIME_FORCE_MONOTONIC_FIX=0
export LD_PRELOAD="$lib_dir/libfaketime.so.1${LD_PRELOAD:+:$LD_PRELOAD}"

stop_postgres() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$data_dir" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$data_dir" "$bin_dir"
}
trap stop_postgres EXIT

runuser -u postgres -- "$pg_bin/initdb" -D "$data_dir" -A trust -U postgres >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$data_dir" -l "$data_dir/log" -w \
  -o "-p $port -k $data_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
echo "clock: $(date -u) UTC ($(TZ=America/Santiago date) in Santiago); PostgreSQL on port $port"
# What the shift cannot reach (see above) is left out, by name; everything else runs.
export PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-} --deselect tests/deploy/test_caddy_https.py \
  --deselect tests/deploy/test_compose_commands.py::test_the_beat_command_publishes_a_database_schedule_recorded_as_launched_by_beat"
make test TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/sii_tasks" "$@"
