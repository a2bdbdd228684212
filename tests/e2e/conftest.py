"""Fixtures for the end-to-end tests: a headless Chromium page, 1,400 px wide (see browser.py)."""

import os
from collections.abc import Iterator

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT, SHOTS, scaled_ms


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
