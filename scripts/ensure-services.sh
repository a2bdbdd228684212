#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ when they are down, so that `make test` works on a fresh machine.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
# A TCP connect, not rabbitmq-diagnostics: that takes seconds to boot its own Erlang node.
rabbitmq_up() { timeout 2 bash -c '</dev/tcp/127.0.0.1/5672' 2>/dev/null; }

if ! pg_up; then
  echo "PostgreSQL is down: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }

if ! redis_up; then
  echo "Redis is down: starting it"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
fi
redis_up || { echo "Redis did not come up on 127.0.0.1:6379" >&2; exit 1; }

# The end-to-end workflow also runs on RabbitMQ (tests/e2e/test_rabbitmq_workflow.py).
if ! rabbitmq_up; then
  echo "RabbitMQ is down: starting it"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do rabbitmq_up && break; sleep 1; done
fi
rabbitmq_up || { echo "RabbitMQ did not come up on 127.0.0.1:5672" >&2; exit 1; }
echo "PostgreSQL, Redis and RabbitMQ are up"
