"""A rehearsed night's figures, from the runs' rows and what the simulator saw."""

import statistics
from collections import Counter

from benchmarks.rehearsal.plan import NightPlan

TABLES = (
    "tasks_api_tasklaunch", "tasks_api_runattempt", "django_celery_results_taskresult",
    "sii_purchasedocument", "sii_saledocument", "sii_feereceipt", "sii_rcvsummary", "sii_surfacesync",
)  # fmt: skip
# The first seconds of an outage still see the requests in flight and the breaker's threshold.
OUTAGE_SETTLING_SECONDS = 5


def night_figures(*, plan: NightPlan, night: dict) -> dict:
    traffic = night["traffic"]
    wall, statuses = _wall_and_statuses(night["parent"])
    requests = {s: sum(counts.values()) for s, counts in traffic["per_second_by_surface"].items()}
    outage = night["outage"]
    outage_seconds = outage["ended"] - outage["began"] if outage else 0.0
    bound = max(requests[s] / plan.rates[s] for s in plan.rates) + outage_seconds
    return {
        "plan": plan.as_dict(),
        "wall_seconds": wall,
        "lower_bound_seconds": bound,
        "requests": requests,
        "most_in_a_second": _most_in_a_second(traffic, outage),
        "children": statuses,
        "logins": _logins(traffic),
        "most_requests_of_a_company_at_once": max(traffic["most_at_once"].values(), default=0),
        "ondemand": _ondemand(night["ondemand"], outage),
        "outage": _outage(traffic, outage) if outage else None,
        "rows": _rows(),
        "per_second": traffic["per_second"],
        "per_second_by_surface": traffic["per_second_by_surface"],
    }


def _wall_and_statuses(parent_id: str) -> tuple[float, dict[str, int]]:
    from django.db.models import Max

    from tasks_api.runs import TaskLaunch

    parent = TaskLaunch.objects.get(task_id=parent_id)
    children = TaskLaunch.objects.filter(parent_id=parent_id)
    end = children.aggregate(end=Max("finished_at"))["end"]
    statuses = Counter(children.values_list("status", flat=True))
    return (end - parent.created_at).total_seconds(), dict(statuses)


def _most_in_a_second(traffic: dict, outage: dict | None) -> dict[str, int]:
    """The most requests of each surface in any 1-second window, the outage's excepted (its own figure)."""
    down = range(int(outage["began"]), int(outage["ended"]) + 1) if outage else range(0)
    return {
        surface: max((n for second, n in counts.items() if int(second) not in down), default=0)
        for surface, counts in traffic["per_second_by_surface"].items()
    }


def _logins(traffic: dict) -> dict:
    logins = list(traffic["logins"].values())
    return {
        "companies": len(logins),
        "most_of_a_company": max(logins, default=0),
        "companies_with_more_than_one": sum(1 for n in logins if n > 1),
    }


def _ondemand(task_ids: list[str], outage: dict | None) -> dict:
    """How long each on-demand launch waited for a worker to start it; those launched while the
    SII was down (their workers held by paused syncs) apart."""
    from tasks_api.runs import TaskLaunch

    runs = TaskLaunch.objects.filter(task_id__in=task_ids, started_at__isnull=False)
    waits: dict[bool, list[float]] = {False: [], True: []}
    for run in runs:
        launched = run.created_at.timestamp()
        during = bool(outage) and outage["began"] <= launched <= outage["ended"] + OUTAGE_SETTLING_SECONDS
        waits[during].append((run.started_at - run.created_at).total_seconds())
    statuses = Counter(TaskLaunch.objects.filter(task_id__in=task_ids).values_list("status", flat=True))
    during = _percentiles(sorted(waits[True])) | {"launched": len(waits[True])}
    return {
        "launched": len(task_ids),
        "statuses": dict(statuses),
        **_percentiles(sorted(waits[False])),
        "during_outage": during,
    }


def _percentiles(values: list[float]) -> dict:
    if len(values) < 2:
        return {
            "p50": values[0] if values else None,
            "p95": values[0] if values else None,
            "max": max(values, default=None),
        }
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[18], "max": values[-1]}


def _outage(traffic: dict, outage: dict) -> dict:
    """Requests the SII got while down: in all, and per second once the breakers had opened."""
    began, ended = int(outage["began"]), int(outage["ended"])
    settled = range(began + OUTAGE_SETTLING_SECONDS, ended)
    per_second = {int(second): n for second, n in traffic["per_second"].items()}
    by_surface = {
        surface: max((n for second, n in counts.items() if int(second) in settled), default=0)
        for surface, counts in traffic["per_second_by_surface"].items()
    }
    return {
        "began": outage["began"],
        "ended": outage["ended"],
        "seconds": outage["ended"] - outage["began"],
        "requests_while_down": sum(n for second, n in per_second.items() if began <= second <= ended),
        "first_seconds": [
            per_second.get(second, 0) for second in range(began, began + OUTAGE_SETTLING_SECONDS)
        ],
        "most_in_a_second_after_them": max((per_second.get(second, 0) for second in settled), default=0),
        "most_in_a_second_by_surface": by_surface,
    }


def _rows() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        sizes = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*), pg_total_relation_size(%s) FROM {table}", [table])
            rows, size = cursor.fetchone()
            sizes[table] = {"rows": rows, "megabytes": round(size / 2**20, 1)}
    return sizes
