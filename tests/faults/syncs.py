"""What the fault scenarios sync, and how they catch a sync in flight."""

from sii.services.periods import periods_ending
from tests.processes import wait_for

BHE = "TMBCOC_InformeMensualBheRec.cgi"  # the last step of each period
LOGIN = "CAutInicio.cgi"  # once per company while its SII session lasts
MONTHS = {"months": 2, "month_offset": 1}  # two whole past months: six steps


def periods() -> list[str]:
    return periods_ending(**MONTHS)


def sync_until_waiting_on_the_sii(system, company, delay_ms: int, times: int | None = 1) -> str:
    """Launch a sync whose first fee-receipt request answers `delay_ms` late; return once that
    request is in flight, the first period's purchases and sales already saved."""
    system.simulator.faults.add(BHE, f"delay:{delay_ms}", times=times)
    task_id = system.launch("sii.sync_documents", company_id=str(company.pk), **MONTHS)
    # The bound covers a worker still booting (tests launch while it does, to save seconds).
    wait_for(lambda: system.simulator.requests_to(BHE) == 1, timeout=60, what="the sync to wait on the SII")
    return task_id
