"""How the console writes durations: as people say them, never as a raw timedelta."""

import pytest

from tasks_api.console.display import duration_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.01, "< 0.1 s"),
        (1.83, "1.8 s"),
        (9.96, "10 s"),
        (42.4, "42 s"),
        (252, "4 min 12 s"),
        (7500, "2 h 5 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert duration_text(seconds) == text
