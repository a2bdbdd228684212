"""Exactly one beat: a lease in the database decides which of several beats sends schedules."""

import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app as celery_app
from support.processes import ROOT, ManagedProcess
from support.waits import wait_for
from tasks_api.models import SchedulerLease, TaskLaunch
from tasks_api.selectors.leases import lease_holder_get
from tasks_api.services.leases import lease_acquire, lease_release
from tasks_api.worker.beat import LEASE_NAME, LeasedDatabaseScheduler, beat_lease_check
from tests.processes import worker_env

ARTIFACTS = ROOT / "artifacts"


def expire(name: str = "beat") -> None:
    SchedulerLease.objects.filter(name=name).update(expires_at=timezone.now() - timedelta(seconds=1))


# The lease service
# ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestLease:
    def test_a_free_lease_goes_to_the_first_holder_that_asks(self):
        assert lease_acquire(name="beat", holder="a", ttl=30) is True

        assert lease_holder_get(name="beat") == "a"

    def test_the_holder_renews_its_lease_for_another_ttl(self):
        lease_acquire(name="beat", holder="a", ttl=5)
        first = SchedulerLease.objects.get(name="beat").expires_at

        assert lease_acquire(name="beat", holder="a", ttl=60) is True

        assert SchedulerLease.objects.get(name="beat").expires_at > first + timedelta(seconds=50)

    def test_another_holder_is_refused_while_the_lease_is_unexpired(self):
        lease_acquire(name="beat", holder="a", ttl=30)

        assert lease_acquire(name="beat", holder="b", ttl=30) is False

        assert lease_holder_get(name="beat") == "a"

    def test_another_holder_takes_over_an_expired_lease_and_the_old_one_is_then_refused(self):
        lease_acquire(name="beat", holder="a", ttl=30)
        expire()

        assert lease_holder_get(name="beat") is None
        assert lease_acquire(name="beat", holder="b", ttl=30) is True
        assert lease_acquire(name="beat", holder="a", ttl=30) is False

    def test_a_released_lease_is_free_at_once(self):
        lease_acquire(name="beat", holder="a", ttl=30)

        assert lease_release(name="beat", holder="a") is True

        assert lease_acquire(name="beat", holder="b", ttl=30) is True

    def test_a_former_holder_cannot_release_the_lease_of_the_one_that_took_over(self):
        lease_acquire(name="beat", holder="a", ttl=30)
        expire()
        lease_acquire(name="beat", holder="b", ttl=30)

        assert lease_release(name="beat", holder="a") is False

        assert lease_holder_get(name="beat") == "b"

    def test_leases_of_different_names_are_independent(self):
        lease_acquire(name="beat", holder="a", ttl=30)

        assert lease_acquire(name="other", holder="b", ttl=30) is True


# The scheduler, in this process
# ------------------------------------------------------------------------------


@pytest.fixture
def due_schedule(transactional_db) -> PeriodicTask:
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name="probe",
        task="tests.beat_probe",  # unregistered, so beat goes through send_task, which we stub
        interval=every_second,
        last_run_at=timezone.now() - timedelta(hours=1),
    )


@pytest.fixture
def scheduler(due_schedule, settings):
    """A scheduler whose publishes are recorded in `scheduler.sent` instead of reaching a broker.
    transactional_db: DatabaseScheduler commits and recycles connections as a beat does."""
    settings.BEAT_LEASE_SECONDS = 30
    scheduler = LeasedDatabaseScheduler(app=celery_app)
    scheduler.sent = []
    scheduler.__dict__["producer"] = None  # no broker connection
    scheduler.send_task = lambda name, *args, **kwargs: scheduler.sent.append(name)
    yield scheduler
    scheduler.close()
    scheduler._finalize.cancel()  # its exit-time sync would find the test database gone


def test_a_beat_without_the_lease_sends_nothing_and_leaves_the_schedule_s_counts_alone(
    scheduler, due_schedule
):
    lease_acquire(name=LEASE_NAME, holder="the other beat", ttl=30)

    assert [scheduler.tick() for _ in range(3)] == [scheduler.max_interval] * 3

    due_schedule.refresh_from_db()
    assert scheduler.sent == []
    assert due_schedule.total_run_count == 0
    assert due_schedule.last_run_at < timezone.now() - timedelta(minutes=59)


def test_the_lease_holder_sends_a_due_schedule_and_saves_its_last_run_at_at_once(scheduler, due_schedule):
    scheduler.tick()

    due_schedule.refresh_from_db()
    assert scheduler.sent == ["tests.beat_probe"]
    assert due_schedule.total_run_count == 1
    assert due_schedule.last_run_at > timezone.now() - timedelta(minutes=1)
    assert lease_holder_get(name=LEASE_NAME) == scheduler.holder


def test_a_beat_that_takes_over_reads_the_last_run_its_predecessor_saved(scheduler, due_schedule):
    lease_acquire(name=LEASE_NAME, holder="the other beat", ttl=30)
    scheduler.tick()
    # The holder runs it after this beat read the schedule (an UPDATE: no change signal).
    PeriodicTask.objects.filter(pk=due_schedule.pk).update(last_run_at=timezone.now() + timedelta(hours=1))
    expire(LEASE_NAME)

    scheduler.tick()

    assert scheduler.holding is True
    assert scheduler.sent == []  # what it read at start-up said due; the database says not


def test_a_beat_that_shuts_down_cleanly_releases_its_lease(scheduler):
    scheduler.tick()

    scheduler.close()

    assert lease_holder_get(name=LEASE_NAME) is None


def test_a_lease_shorter_than_two_beat_ticks_stops_start_up_naming_the_setting():
    with pytest.raises(ImproperlyConfigured, match="BEAT_LEASE_SECONDS=9 must be at least twice"):
        beat_lease_check(lease_seconds=9, max_interval=5)


# Two real beats
# ------------------------------------------------------------------------------

LEASE_SECONDS = 5
MAX_INTERVAL = 1  # seconds beat sleeps at most between ticks; a standby checks the lease as often
QUEUE = "beat-lease-test"  # no worker consumes it: the publishes stay out of other tests' way


class BeatProcess(ManagedProcess):
    """`celery -A config beat` with the project's scheduler, started at once, logging to artifacts/."""

    def __init__(self, *, env: dict[str, str], tmp_path: Path, name: str) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
            "--max-interval", str(MAX_INTERVAL),
            "--pidfile", str(tmp_path / f"beat-{name}.pid"), "--schedule", str(tmp_path / f"beat-{name}"),
        ]  # fmt: skip
        super().__init__(
            command, ARTIFACTS / f"beat-{name}.log", name=f"beat {name}", env=env, stop_timeout=15
        )
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def holds_the_lease(self) -> bool:
        self.check_alive()
        holder = lease_holder_get(name=LEASE_NAME) or ""
        return f":{self.pid}:" in holder


@pytest.fixture
def beats(transactional_db, tmp_path):
    """Starts beats on the test database and this run's broker; stops what is left at the end."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("End-to-end tests need REDIS_URL (make test sets it); see README 'Tests'.")
    ARTIFACTS.mkdir(exist_ok=True)
    env = worker_env(
        database=settings.DATABASES["default"], simulator_url="http://127.0.0.1:9",
        extra={"BEAT_LEASE_SECONDS": str(LEASE_SECONDS), "LOG_LEVEL": "INFO", "LOG_FORMAT": "plain"},
    )  # fmt: skip
    started: list[BeatProcess] = []

    def start(name: str) -> BeatProcess:
        started.append(BeatProcess(env=env, tmp_path=tmp_path, name=name))
        return started[-1]

    yield start
    for beat in started:
        beat.stop(signal.SIGKILL)
    with celery_app.connection_for_write() as connection:
        redis = connection.default_channel.client
        redis.delete(QUEUE, *redis.keys(f"_kombu.binding*.{QUEUE}"))  # the queue and kombu's bindings


@pytest.fixture
def every_second(transactional_db) -> PeriodicTask:
    return PeriodicTask.objects.create(
        name="lease probe",
        task="sii.sync_f29_all_companies",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
        queue=QUEUE,
    )


def sends(schedule: PeriodicTask) -> int:
    """Every publish is recorded as a TaskLaunch (tasks_api.worker.signals), beat's with the schedule's name."""
    return TaskLaunch.objects.filter(periodic_task_name=schedule.name).count()


def sends_during(schedule: PeriodicTask, seconds: float) -> int:
    before = sends(schedule)
    time.sleep(seconds)
    return sends(schedule) - before


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_of_two_real_beats_one_fires_and_the_other_takes_over_when_it_is_killed(beats, every_second):
    first = beats("a")
    wait_for(first.holds_the_lease, timeout=30, interval=0.2, what="the first beat to take the lease")
    second = beats("b")
    wait_for(lambda: "standing by" in second.log(), timeout=30, what="the second beat to stand by")

    assert 1 <= sends_during(every_second, 4) <= 5  # once a second at most, never twice (slow or not)
    assert "Sending due task" not in second.log()

    killed_at = time.monotonic()
    first.stop(signal.SIGKILL)
    # Within the lease and a tick, on a machine that keeps up; the bound scales with TEST_WAIT_SCALE.
    wait_for(second.holds_the_lease, timeout=LEASE_SECONDS + MAX_INTERVAL + 5, what="the takeover")
    print(f"takeover after {time.monotonic() - killed_at:.1f} s")  # shown with pytest -s

    assert "took over the lease" in second.log()
    assert 1 <= sends_during(every_second, 3) <= 4
    assert second.stop() == 0, second.log()[-3000:]  # SIGTERM: a clean shutdown, not a kill
    assert "released the lease" in second.log()
    assert lease_holder_get(name=LEASE_NAME) is None
    every_second.refresh_from_db()
    # Only the holders counted runs (the killed one may have died between a send and its save).
    assert sends(every_second) - 1 <= every_second.total_run_count <= sends(every_second)
