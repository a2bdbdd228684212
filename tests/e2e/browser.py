"""Headless Chromium for the console's browser tests: screenshots and logging in (conftest has the page).

Debian's Chromium driven by Playwright (its own browser download fails here), 1,400 px wide;
screenshots are kept under artifacts/browser/.
"""

from pathlib import Path

from support.waits import scaled
from tests.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
PASSWORD = "operator-pass-123"
DEFAULT_TIMEOUT = 30  # seconds: Playwright's own default, before TEST_WAIT_SCALE


def scaled_ms(seconds: float) -> float:
    """A Playwright `timeout` (milliseconds) for a wait of `seconds`, stretched by TEST_WAIT_SCALE."""
    return scaled(seconds) * 1000


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, *, username: str = "operator", screenshot: str | None = None) -> None:
    """Through the console's login page, as a superuser operator, landing on the dashboard."""
    user = UserFactory(username=username, is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    if screenshot:
        shot(page, screenshot)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
