"""The retention benchmark's second process: a finished task's status and the console's pages, timed again and again."""

import time
from collections.abc import Callable

PAGES = {"runs changelist": "/admin/tasks_api/tasklaunch/", "dashboard": "/admin/"}
# A console page a second and a status poll every 50 ms: a user and a poller, not a load test.
PAGE_EVERY = 1.0
STATUS_PAUSE = 0.05


def probe_run(task_id: str, stop, pages_done, samples) -> None:
    """Until `stop` is set: time the status of `task_id` and, every PAGE_EVERY, the next console
    page; then put the samples, (wall-clock start, name, seconds), on the `samples` queue."""
    import django

    django.setup()
    from tasks_api.selectors.status import task_status_get

    probes = {"status": lambda: task_status_get(task_id=task_id), **_pages()}
    for probe in probes.values():
        probe()  # the first call compiles templates and queries: not a figure
    timings: list[tuple[float, str, float]] = []
    next_page = time.monotonic()
    while not stop.is_set():
        timings.append(_timed("status", probes["status"]))
        if time.monotonic() >= next_page:
            name = list(PAGES)[pages_done.value % len(PAGES)]
            timings.append(_timed(name, probes[name]))
            pages_done.value += 1
            next_page = time.monotonic() + PAGE_EVERY
        time.sleep(STATUS_PAUSE)
    samples.put(timings)


def _pages() -> dict[str, Callable[[], None]]:
    """Each console page as a signed-in superuser's GET, with the default storages (the static
    files' manifest is not built here), checked to answer 200."""
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    user, _ = get_user_model().objects.get_or_create(username="bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(
        STORAGES={"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": plain}
    ).enable()

    def page(url: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    return {name: page(url) for name, url in PAGES.items()}


def _timed(name: str, probe: Callable[[], object]) -> tuple[float, str, float]:
    started, clock = time.time(), time.perf_counter()
    probe()
    return started, name, time.perf_counter() - clock
