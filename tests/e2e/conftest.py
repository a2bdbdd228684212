"""Fixtures for the end-to-end tests: a headless Chromium page, 1,400 px wide (see browser.py), and
workers of their own."""

import os
from collections.abc import Iterator

import pytest
from django.conf import settings

from config.celery import app as celery_app
from tests.conftest import redis_broker_database
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT, SHOTS, scaled_ms
from tests.processes import WorkerProcess, worker_env


@pytest.fixture
def browser_page() -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in the test are
    # still synchronous and safe, so Django's async guard is lifted for these tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(scaled_ms(DEFAULT_TIMEOUT))  # every wait, navigation included
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser_page):
    """The same Chromium page, by the shorter name some tests use."""
    return browser_page


@pytest.fixture
def workers(served_simulator, tmp_path):
    """Start workers of their own (on a broker database no other worker consumes) with `env`."""
    started: list[WorkerProcess] = []

    def start(count: int, concurrency: int, **env: str) -> list[WorkerProcess]:
        new: list[WorkerProcess] = []
        for _ in range(count):
            number = len(started) + len(new)
            extra = {"CELERY_BROKER_URL": celery_app.conf.broker_url, **env}
            environment = worker_env(
                database=settings.DATABASES["default"], simulator_url=served_simulator[1], extra=extra
            )
            log = tmp_path / f"worker-{number}.log"
            node = f"e2e-{number}@%h"
            new.append(WorkerProcess(env=environment, log_path=log, concurrency=concurrency, node=node))
        started.extend(new)
        for worker in new:
            worker.wait_ready(celery_app)
        return new

    with redis_broker_database(9):
        try:
            yield start
        finally:
            for worker in started:
                worker.stop()
