"""A worker remote-control command that answers every stats question in one broadcast.

Celery's inspect API asks active, scheduled, reserved, registered and stats one broadcast at a
time, each waiting its full timeout; this command lets the API ask once.
"""

from celery.worker import control


@control.inspect_command(name="tasks_snapshot")
def tasks_snapshot(state, **kwargs) -> dict:
    return {
        "active": control.active(state),
        "scheduled": control.scheduled(state),
        "reserved": control.reserved(state),
        "registered": control.registered(state),
        "stats": control.stats(state),
    }
