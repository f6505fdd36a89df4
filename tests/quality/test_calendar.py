"""The shipped public holidays and the working-day calendar."""

import datetime as dt

from datadsn.quality import calendar


def test_shipped_holidays_match_the_library() -> None:
    # A new release of the package that changes a holiday fails here: run `make feries`.
    assert sorted(calendar.public_holidays()) == calendar.library_holidays()


def test_working_days_skip_weekends_and_public_holidays() -> None:
    table = calendar.working_days(dt.date(2024, 5, 1), dt.date(2024, 5, 31)).to_pylist()
    open_days = {r["jour"] for r in table if r["ouvre"]}
    assert len(table) == 31
    # May 2024: 23 weekdays, of which 1st, 8th, Ascension (9th) and Whit Monday (20th) are off
    assert len(open_days) == 19
    assert dt.date(2024, 5, 2) in open_days
    assert not open_days & {dt.date(2024, 5, d) for d in (1, 4, 8, 9, 20)}
    assert {r["mois"] for r in table} == {dt.date(2024, 5, 1)}


def test_the_calendar_is_clamped_to_the_shipped_years() -> None:
    table = calendar.working_days(dt.date(1980, 1, 1), dt.date(1990, 1, 2))
    assert table.num_rows == 2  # 1 and 2 January 1990; New Year's Day is off
    assert table.column("ouvre").to_pylist() == [False, True]
