"""The shipped public holidays and the working-day calendar."""

import datetime as dt

from datadsn.quality import calendar


def test_shipped_holidays_match_the_library() -> None:
    # A new release of the package that changes a holiday fails here: run `make feries`.
    assert sorted(calendar.public_holidays()) == calendar.library_holidays()


def test_working_days_skip_weekends_and_public_holidays() -> None:
    table = calendar.working_days(dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    open_days = {day for day, open_ in zip(table["jour"], table["ouvre"], strict=True) if open_}
    assert len(table["jour"]) == 31
    # May 2024: 23 weekdays, of which 1st, 8th, Ascension (9th) and Whit Monday (20th) are off
    assert len(open_days) == 19
    assert dt.date(2024, 5, 2) in open_days
    assert not open_days & {dt.date(2024, 5, d) for d in (1, 4, 8, 9, 20)}
    assert set(table["mois"]) == {dt.date(2024, 5, 1)}


def test_the_calendar_is_clamped_to_the_shipped_years() -> None:
    table = calendar.working_days(dt.date(1980, 1, 1), dt.date(1990, 1, 2))
    assert table["jour"] == [dt.date(1990, 1, 1), dt.date(1990, 1, 2)]
    assert table["ouvre"] == [False, True]  # New Year's Day is off


def test_build_calendar_types_its_columns() -> None:
    import duckdb

    from datadsn.engine.backends.duck import DuckDBBackend

    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE periodes AS SELECT DATE '2024-05-01' AS debut, DATE '2024-05-31' AS fin"
        )
        assert calendar.build_calendar(DuckDBBackend(con), "periodes") == 31
        rows = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE ouvre), typeof(any_value(jour)), "
            "typeof(any_value(mois)), typeof(any_value(ouvre)) FROM calendrier"
        ).fetchall()
    assert rows == [(31, 19, "DATE", "DATE", "BOOLEAN")]
