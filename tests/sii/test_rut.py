"""RUT vectors and spellings from sii-contracts §4.1."""

import pytest

from sii.rut import InvalidRut, Rut, check_digit, clean, parse


@pytest.mark.parametrize(
    ("body", "dv"),
    [
        (60910000, "1"),
        (76555835, "2"),
        (76177907, "9"),
        (76369187, "K"),
        (77879240, "0"),
        (96874030, "K"),
        (12345678, "5"),
    ],
)
def test_check_digit_matches_the_published_vectors(body: int, dv: str) -> None:
    assert check_digit(body) == dv


@pytest.mark.parametrize(
    "spelling", ["12.345.678-5", "012345678-5", "123456785", " 12345678-5 ", "12345678-5"]
)
def test_common_spellings_parse_to_the_same_rut(spelling: str) -> None:
    assert parse(spelling) == Rut(body=12345678, dv="5")


def test_lower_case_k_is_accepted_and_upper_cased() -> None:
    assert parse(" 76369187-k ") == Rut(body=76369187, dv="K")
    assert clean(" 76.369.187-k ") == "76369187-K"


def test_clean_strips_dots_spaces_and_leading_zeros() -> None:
    assert clean("012.345.678-5") == "12345678-5"


def test_the_formatted_rut_uses_thousands_dots() -> None:
    assert parse("123456785").formatted == "12.345.678-5"
    assert Rut(body=76369187, dv=check_digit(76369187)).formatted == "76.369.187-K"
    assert str(parse("12.345.678-5")) == "12345678-5"


@pytest.mark.parametrize("text", ["", "-", "abc", "12345678-X", "0-0", "123456789012-3", "12-345-678-5"])
def test_malformed_ruts_raise_invalid_rut_saying_what_is_expected(text: str) -> None:
    with pytest.raises(InvalidRut, match="is not a RUT"):
        parse(text)


def test_wrong_check_digit_raises_invalid_rut_naming_the_right_one() -> None:
    with pytest.raises(InvalidRut, match=r"wrong check digit \(expected 5\)"):
        parse("12.345.678-9")
