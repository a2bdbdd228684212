"""What a run's page shows, in words: status and its summary, progress, error, times, children.

Built from one run row annotated with its stored result (selectors.children.with_stored_result)
and, for a fan-out parent, one aggregate of its children's states; the page and its live
partial render the same RunView.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from tasks_api.console import display
from tasks_api.registry import catalog
from tasks_api.runs.errors import exception_type
from tasks_api.states import FINISHED, RUNNING

# The children bar's segments: which states each counts, its colour (unfold's Tailwind classes).
CHILD_SEGMENTS = (
    ("succeeded", ("SUCCESS",), "bg-green-600"),
    ("failed", ("FAILURE",), "bg-red-600"),
    ("revoked", ("REVOKED",), "bg-orange-500"),
    ("running", RUNNING, "bg-blue-500"),
    ("waiting", ("PENDING",), "bg-base-300"),
)


@dataclass
class RunView:
    run: Any
    summary: str
    live: bool
    progress: dict | None = None
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    result: Any = None
    meta: dict | None = None
    children: dict | None = None
    times: list[tuple[str, str]] = field(default_factory=list)
    attempts: dict | None = None  # the timeline: a table of the run's attempts, first first

    @property
    def family_running(self) -> bool:
        """A parent that finished dispatching while its children still run: the family runs."""
        return bool(self.children and self.children["unfinished"]) and self.run.status == "SUCCESS"

    @property
    def status_badge(self) -> str:
        if self.family_running:
            return display.label("running children", "info", title=FAMILY_RUNNING)
        return display.status_badge(self.run.status)


FAMILY_RUNNING = (
    "It launched its children (its own status is SUCCESS); the family runs until the last one ends."
)
# An attempt's outcome badge: unfold's label variant for each.
ATTEMPT_VARIANTS = {
    "running": "info", "succeeded": "success", "failed": "danger", "retry": "warning",
    "lost": "danger", "revoked": "primary", "skipped": "default",
}  # fmt: skip


def fans_out(task_type: str) -> bool:
    known = catalog().get(task_type)
    return bool(known and known.fans_out)


def run_view(
    run, *, children_counts: dict[str, int] | None = None, family_end: Any = None, attempts: Any = ()
) -> RunView:
    """`run` comes with `stored_result` and `stored_traceback`; counts (and when the last child
    ended) only for a fan-out parent; `attempts` are the run's, first first."""
    stored = _loads(run.stored_result)
    children = _children(run, children_counts) if children_counts is not None else None
    still_running = bool(children and children["unfinished"])
    view = RunView(
        run=run,
        summary=run_summary(run.status, children_counts),
        live=run.status not in FINISHED or still_running,
        children=children,
        times=run_times(run) + (family_times(run, still_running, family_end) if children else []),
        attempts=attempts_table(attempts),
    )
    _fill_outcome(view, run, stored)
    return view


def family_times(run, still_running: bool, family_end: Any) -> list[tuple[str, str]]:
    """A fan-out's wall time: from its start to its last child's end (or now, while one runs)."""
    if not run.started_at:
        return []
    if still_running:
        return [("Family running for", _seconds_text(timezone.now() - run.started_at))]
    end = max(filter(None, (family_end, run.finished_at)), default=None)
    return [("Family took", _seconds_text(end - run.started_at))] if end else []


ATTEMPT_HEADERS = ["attempt", "worker", "started", "took", "outcome", "reason", "retry due"]


def attempts_table(attempts: Any) -> dict | None:
    rows = [attempt_row(attempt) for attempt in attempts]
    return {"title": "Attempts", "headers": ATTEMPT_HEADERS, "rows": rows} if rows else None


def attempt_row(attempt) -> list[str]:
    """One attempt: number, worker, start, how long, outcome badge, reason, when its retry is due."""
    took = attempt.ended_at - attempt.started_at if attempt.ended_at else None
    variant = ATTEMPT_VARIANTS.get(attempt.outcome, "default")
    return [
        str(attempt.number or "—"),
        f"{attempt.worker} (pid {attempt.pid})" if attempt.pid else attempt.worker,
        display.moment(attempt.started_at),
        _seconds_text(took) if took is not None else "running",
        display.label(attempt.get_outcome_display(), variant),
        ": ".join(filter(None, (attempt.error_type, attempt.error_message))) or _waiting(attempt),
        display.moment(attempt.retry_at) if attempt.retry_at else "—",
    ]


def _seconds_text(delta) -> str:
    return display.duration_text(max(delta.total_seconds(), 0))


def _fill_outcome(view: RunView, run, stored: Any) -> None:
    if run.status == "SUCCESS":
        view.result = stored
    elif run.status in ("FAILURE", "RETRY"):
        view.error = run.error or None
        view.error_type = exception_type(stored) or None
        view.traceback = run.stored_traceback if run.status == "FAILURE" else None
    elif run.status == "STARTED" and isinstance(stored, dict):
        view.meta = {k: v for k, v in stored.items() if k not in ("pid", "info")}
        view.progress = progress(view.meta)


def progress(meta: dict) -> dict | None:
    """{step, current, total, percent, text} from a running task's meta, if it reports steps."""
    current, total = meta.get("current"), meta.get("total")
    if not isinstance(current, int) or not isinstance(total, int) or total <= 0:
        return None
    done = max(0, min(current - 1, total))  # `current` is the step now running
    step = str(meta.get("step") or "")
    text = f"{step}, {current} of {total}" if step else f"{current} of {total}"
    return {
        "step": step,
        "current": current,
        "total": total,
        "percent": round(100 * done / total),
        "text": text,
    }


def run_summary(status: str, counts: dict[str, int] | None) -> str:
    """The status in a line: "SUCCESS, 3 of 1,204 children failed, 12 children still running"."""
    if not counts:
        return status
    total = sum(counts.values())
    failed = counts.get("FAILURE", 0)
    unfinished = sum(counts.get(s, 0) for s in ("PENDING", *RUNNING))
    parts = [status]
    if total == 0:
        parts.append("no children")
    if failed:
        parts.append(f"{display.number(failed)} of {display.number(total)} children failed")
    if revoked := counts.get("REVOKED", 0):
        parts.append(f"{display.number(revoked)} revoked")
    if unfinished:
        parts.append(f"{display.number(unfinished)} {_children_word(unfinished)} still running")
    if total and not failed and not revoked and not unfinished:
        parts.append(f"all {display.number(total)} children succeeded")
    return ", ".join(parts)


def _children_word(count: int) -> str:
    return "child" if count == 1 else "children"


def _children(run, counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    segments = []
    for name, states, colour in CHILD_SEGMENTS:
        count = sum(counts.get(state, 0) for state in states)
        percent = 100 * count / total if total else 0
        segments.append(
            {"name": name, "count": count, "text": display.number(count), "colour": colour,
             "percent": f"{percent:.3f}", "filter": states[0]}
        )  # fmt: skip
    unfinished = sum(counts.get(s, 0) for s in ("PENDING", *RUNNING))
    return {
        "total": total,
        "total_text": display.number(total),
        "segments": segments,
        "unfinished": unfinished,
    }


def run_times(run) -> list[tuple[str, str]]:
    """Launched, started, finished (to the second), how long it waited and ran."""
    times = [("Launched", display.moment(run.created_at))]
    if run.started_at:
        times.append(("Started", display.moment(run.started_at)))
        waited = (run.started_at - run.created_at).total_seconds()
        times.append(("Waited in the queue", display.duration_text(max(waited, 0))))
    if run.finished_at:
        times.append(("Finished", display.moment(run.finished_at)))
    if run.started_at and run.finished_at:
        times.append(("Took", display.duration_text((run.finished_at - run.started_at).total_seconds())))
    elif run.started_at and run.status not in FINISHED:
        times.append(
            ("Running for", display.duration_text((timezone.now() - run.started_at).total_seconds()))
        )
    return times


def result_rows(result: Any) -> list[list[str]]:
    """A result's top-level plain values as rows of a two-column table (the generic fallback)."""
    if not isinstance(result, dict):
        return [] if result is None else [["result", str(result)]]
    return [[str(key), str(value)] for key, value in result.items() if not isinstance(value, dict | list)]


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:  # a backend that stored something else: show it as it is
        return text


def _waiting(attempt) -> str:
    return f"waiting: {attempt.waiting}" if attempt.waiting and not attempt.ended_at else "—"
