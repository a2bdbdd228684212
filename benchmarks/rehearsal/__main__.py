"""`python -m benchmarks.rehearsal [--smoke]`: a night of 10,000 companies against the simulator
(0.3 s a request, give or take half) at the governor's configured SII rate, on PostgreSQL with Redis,
then with RabbitMQ (an SII outage of 5 minutes midway); one table, VAR_DIR/rehearsal/results.json
and results.png. Needs DATABASE_URL (its own database is made there) and REDIS_URL (a database
number it flushes). It asserts nothing; `make rehearse` runs it, `make test` its smoke."""

import argparse
import dataclasses
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

from benchmarks.__main__ import redis_url_checked
from benchmarks.rehearsal.plan import FULL, SMOKE, NightPlan
from benchmarks.rehearsal.report import chart_draw, table_print

DATABASE = "sii_tasks_rehearsal"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rehearsal", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="40 companies, fast SII, Redis only")
    parser.add_argument("--companies", type=int, help="companies in the night (default 10,000)")
    parser.add_argument("--brokers", default="", help="comma-separated: redis, rabbitmq (default both)")
    parser.add_argument("--database", default=DATABASE, help="the throwaway database's name")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    plan = SMOKE if options.smoke else FULL
    if options.companies:
        plan = dataclasses.replace(plan, companies=options.companies)
    brokers = (
        options.brokers.split(",")
        if options.brokers
        else (["redis"] if options.smoke else ["redis", "rabbitmq"])
    )
    out = Path(os.environ.get("VAR_DIR", "var")) / "rehearsal"
    out.mkdir(parents=True, exist_ok=True)
    redis_url = redis_url_checked()
    nights = {
        broker: _night(broker, _plan_for(plan, broker, brokers), redis_url, out, options.database)
        for broker in brokers
    }
    (out / "results.json").write_text(json.dumps(nights, indent=1))
    table_print(nights)
    chart_draw(nights, out / "results.png")
    print(f"Wrote {out / 'results.json'} and {out / 'results.png'}", flush=True)
    return 0


def _plan_for(plan: NightPlan, broker: str, brokers: list[str]) -> NightPlan:
    """The outage happens in the last night only: the first measures a night undisturbed."""
    return plan if broker == brokers[-1] else dataclasses.replace(plan, outage=0.0)


def _night(broker: str, plan: NightPlan, redis_url: str, out: Path, database: str) -> dict:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    print(f"Night on {broker}: {plan.companies:,} companies", flush=True)
    with _broker(broker, redis_url) as broker_url:
        env = _environment(
            plan, broker_url=broker_url, redis_url=redis_url, var=out / broker, database=database
        )
        plan_file, result_file = out / f"{broker}-plan.json", out / f"{broker}.json"
        plan_file.write_text(json.dumps(plan.as_dict()))
        command = [sys.executable, "-m", "benchmarks.rehearsal.night", str(plan_file), str(result_file)]
        subprocess.run(command, env=env, check=True)  # noqa: S603 (our own command)
    return json.loads(result_file.read_text())


def _environment(
    plan: NightPlan, *, broker_url: str, redis_url: str, var: Path, database: str
) -> dict[str, str]:
    from cryptography.fernet import Fernet

    from benchmarks.database import bench_database_use

    bench_database_use(name=database)  # dropped and made again; DATABASE_URL now names it
    var.mkdir(parents=True, exist_ok=True)
    rates = {f"SII_RATE_{surface.upper()}": str(rate) for surface, rate in plan.rates.items()}
    return {
        **os.environ, **rates, "CELERY_BROKER_URL": broker_url, "REDIS_URL": redis_url, "VAR_DIR": str(var),
        "SII_MODE": "simulator", "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40), "SII_CREDENTIALS_KEY": Fernet.generate_key().decode(),
    }  # fmt: skip


class _broker:
    """The night's broker URL: REDIS_URL's database, or a RabbitMQ vhost of its own (removed after)."""

    def __init__(self, kind: str, redis_url: str) -> None:
        self.kind, self.redis_url, self.vhost = kind, redis_url, f"sii_tasks_rehearsal_{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> str:
        if self.kind == "redis":
            return self.redis_url
        _rabbitmqctl("add_vhost", self.vhost)
        _rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        return f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}"

    def __exit__(self, *exc: object) -> None:
        if self.kind == "rabbitmq":
            _rabbitmqctl("delete_vhost", self.vhost)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)  # noqa: S603, S607


if __name__ == "__main__":
    sys.exit(main())
