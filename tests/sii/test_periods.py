"""Tax periods are Chilean months, counted back from the current one."""

from datetime import date

from sii.services.periods import periods_ending, periods_of_year, shift_period


def test_periods_end_month_offset_months_before_the_current_one_oldest_first():
    assert periods_ending(months=3, month_offset=1, on=date(2025, 2, 10)) == ["202411", "202412", "202501"]


def test_month_offset_zero_includes_the_current_month():
    assert periods_ending(months=1, month_offset=0, on=date(2025, 2, 28)) == ["202502"]


def test_shifting_crosses_year_boundaries_both_ways():
    assert shift_period("202501", -1) == "202412"
    assert shift_period("202412", 1) == "202501"
    assert shift_period("202506", -18) == "202312"


def test_a_past_year_has_twelve_periods_and_the_current_one_only_those_begun():
    assert len(periods_of_year(year="2024", on=date(2025, 3, 1))) == 12
    assert periods_of_year(year="2025", on=date(2025, 3, 1)) == ["202501", "202502", "202503"]
    assert periods_of_year(year="2026", on=date(2025, 3, 1)) == []
