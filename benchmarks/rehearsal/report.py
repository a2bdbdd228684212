"""The rehearsal's table (each target: measured, met or not) and its chart."""

from pathlib import Path

WALL_TARGET = 1.15
ONDEMAND_P95_TARGET = 5.0


def table_print(nights: dict[str, dict]) -> None:
    brokers = list(nights)
    rows = [("", *brokers)]
    for label, cell in _ROWS:
        rows.append((label, *(cell(nights[broker]) for broker in brokers)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)))


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _wall(night: dict) -> str:
    ratio = night["wall_seconds"] / night["lower_bound_seconds"]
    bound = night["lower_bound_seconds"]
    return (
        f"{night['wall_seconds']:,.0f} s / bound {bound:,.0f} s = {ratio:.2f}x ({_met(ratio <= WALL_TARGET)})"
    )


def _rate(night: dict) -> str:
    caps = night["plan"]["rates"]
    most = night["most_in_a_second"]
    cells = [f"{surface} {most[surface]}/{caps[surface]:g}" for surface in caps]
    return ", ".join(cells) + f" ({_met(all(most[s] <= caps[s] for s in caps))})"


def _logins(night: dict) -> str:
    logins = night["logins"]
    ok = logins["most_of_a_company"] <= 1
    return f"most {logins['most_of_a_company']}, {logins['companies_with_more_than_one']} companies > 1 ({_met(ok)})"


def _at_once(night: dict) -> str:
    most = night["most_requests_of_a_company_at_once"]
    return f"{most} ({_met(most <= 1)})"


def _ondemand(night: dict) -> str:
    waits = night["ondemand"]
    if waits["p95"] is None:
        return "none launched"
    ok = waits["p95"] <= ONDEMAND_P95_TARGET
    text = f"p50 {waits['p50']:.2f} s, p95 {waits['p95']:.2f} s, max {waits['max']:.2f} s ({_met(ok)})"
    during = waits["during_outage"]
    if during["launched"]:
        text += f"; {during['launched']} launched while the SII was down: p95 {during['p95']:.1f} s"
    return text


def _outage(night: dict) -> str:
    outage = night["outage"]
    if not outage:
        return "-"
    by_surface = outage["most_in_a_second_by_surface"]
    ok = all(n <= 1 for n in by_surface.values())
    first = "+".join(str(n) for n in outage["first_seconds"])
    return f"{outage['seconds']:.0f} s: first 5 s {first}, then most/s {by_surface} ({_met(ok)})"


def _children(night: dict) -> str:
    statuses = night["children"]
    ok = set(statuses) == {"SUCCESS"}
    return ", ".join(f"{status} {n:,}" for status, n in sorted(statuses.items())) + f" ({_met(ok)})"


def _rows(night: dict) -> str:
    rows = night["rows"]
    return ", ".join(
        f"{table.split('_', 1)[1]} {size['rows']:,} ({size['megabytes']} MB)" for table, size in rows.items()
    )


_ROWS = [
    ("companies", lambda night: f"{night['plan']['companies']:,}"),
    ("night: wall / lower bound (<= 1.15x)", _wall),
    ("most SII requests in a 1-s window / cap", _rate),
    ("logins per company (1)", _logins),
    ("most requests of one company at once (1)", _at_once),
    ("on-demand wait to start (p95 <= 5 s)", _ondemand),
    ("SII outage: requests/s while down (<= 1 a surface)", _outage),
    ("children's final states (all SUCCESS)", _children),
    ("rows and tables after", _rows),
]


def chart_draw(nights: dict[str, dict], path: Path) -> None:
    """SII requests per second through each night, the caps' sum as a line, the outage shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes_list = pyplot.subplots(len(nights), 1, figsize=(11, 3.5 * len(nights)), squeeze=False)
    for axes, (broker, night) in zip((row[0] for row in axes_list), nights.items(), strict=True):
        _night_axes(axes, broker, night)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def _night_axes(axes, broker: str, night: dict) -> None:
    seconds = sorted(int(second) for second in night["per_second"])
    if not seconds:
        return
    start, span = seconds[0], range(seconds[0], seconds[-1] + 1)  # a quiet second is a 0, not a gap
    x = [second - start for second in span]
    for surface, counts in night.get("per_second_by_surface", {}).items():
        axes.plot(x, [counts.get(str(second), 0) for second in span], label=surface, linewidth=0.6)
    axes.plot(x, [night["per_second"].get(str(second), 0) for second in span], label="all", linewidth=0.8)
    axes.axhline(sum(night["plan"]["rates"].values()), linestyle="--", color="grey", label="caps' sum")
    if night["outage"]:
        outage = night["outage"]
        axes.axvspan(
            outage["began"] - start, outage["ended"] - start, color="red", alpha=0.1, label="SII outage"
        )
    axes.set_title(f"{broker}: SII requests per second ({night['plan']['companies']:,} companies)")
    axes.set_xlabel("seconds into the night")
    axes.legend(loc="upper right", fontsize=7)
