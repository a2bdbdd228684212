"""Beat's heartbeat file: every tick touches it, so compose's health check can tell beat ticks."""

import logging
import os

import pytest

from config.celery import app as celery_app
from tasks_api.services.leases import lease_acquire
from tasks_api.worker.beat import LEASE_NAME, LeasedDatabaseScheduler


@pytest.fixture
def scheduler(transactional_db, settings, tmp_path):
    """A scheduler that never reaches a broker, its heartbeat file under tmp_path."""
    settings.BEAT_HEARTBEAT_FILE = tmp_path / "var" / "beat.heartbeat"
    scheduler = LeasedDatabaseScheduler(app=celery_app)
    scheduler.__dict__["producer"] = None
    scheduler.send_task = lambda *args, **kwargs: None
    yield scheduler
    scheduler.close()
    scheduler._finalize.cancel()  # its exit-time sync would find the test database gone


def test_every_tick_touches_the_heartbeat_file_also_while_standing_by(scheduler, settings):
    heartbeat = settings.BEAT_HEARTBEAT_FILE
    lease_acquire(name=LEASE_NAME, holder="the other beat", ttl=30)

    scheduler.tick()
    os.utime(heartbeat, (0, 0))  # as if the last tick were long ago
    scheduler.tick()

    assert scheduler.holding is False
    assert heartbeat.stat().st_mtime > 0


def test_the_lease_holder_touches_the_heartbeat_file_too(scheduler, settings):
    scheduler.tick()

    assert scheduler.holding is True
    assert settings.BEAT_HEARTBEAT_FILE.exists()


def test_a_heartbeat_file_that_cannot_be_written_is_logged_and_the_tick_goes_on(
    scheduler, settings, tmp_path, caplog
):
    (tmp_path / "a file").write_text("")
    settings.BEAT_HEARTBEAT_FILE = tmp_path / "a file" / "beat.heartbeat"

    with caplog.at_level(logging.WARNING, logger="tasks_api.worker.beat"):
        assert scheduler.tick() >= 0

    assert scheduler.holding is True
    assert "cannot touch its heartbeat file" in caplog.text
