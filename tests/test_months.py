"""The one module that parses, checks and counts months."""

from __future__ import annotations

import datetime as dt

import pytest

from datadsn import months


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "mois invalide '' : format attendu AAAA-MM"),
        (None, "mois invalide '' : format attendu AAAA-MM"),
        ("2024-13", "mois invalide '2024-13'"),
        ("2024-00", "mois invalide '2024-00'"),
        ("2024-1", "mois invalide '2024-1'"),
        ("24-01", "mois invalide '24-01'"),
        ("2024-01-01", "mois invalide '2024-01-01'"),
        ("10000-01", "mois invalide '10000-01'"),
        ("9999-12", "mois 9999-12 hors de la plage admise (1990-01 à 2099-12)"),
        ("1989-12", "mois 1989-12 hors de la plage admise (1990-01 à 2099-12)"),
    ],
)
def test_bad_months_are_refused_with_a_french_message(text, message):
    with pytest.raises(months.MonthError) as caught:
        months.parse(text)
    assert str(caught.value).startswith(message)


def test_the_bounds_are_valid_and_the_error_class_can_be_chosen():
    assert months.parse(" 1990-01 ") == "1990-01"
    assert months.parse("2099-12") == "2099-12"
    with pytest.raises(KeyError):
        months.parse("x", error=KeyError)


def test_arithmetic_crosses_years():
    assert months.next_month("2023-12") == "2024-01"
    assert months.previous_month("2024-01") == "2023-12"
    assert months.shift("2024-03", -72) == "2018-03"
    assert months.shift("2024-03", 13) == "2025-04"
    assert months.between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert months.between("2024-02", "2024-01") == []
    assert months.to_date("2024-02") == dt.date(2024, 2, 1)
    assert months.of_date(dt.date(2024, 2, 29)) == "2024-02"


def test_ranges():
    assert months.parse_range("2023-01..2024-12") == ("2023-01", "2024-12")
    assert months.parse_range("2024-03") == ("2024-03", "2024-03")
    assert len(months.months_of("2023-01..2024-12")) == 24
    with pytest.raises(months.MonthError, match="la fin précède le début"):
        months.parse_range("2024-12..2023-01")
    with pytest.raises(months.MonthError, match=r"période invalide '2023-01\.\.' "):
        months.parse_range("2023-01..")
