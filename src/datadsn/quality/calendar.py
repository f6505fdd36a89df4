"""The day calendar used to split pay periods: working day = Monday-Friday and not a French
public holiday (metropolitan list of the ``holidays`` package, as the reference)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import duckdb
import holidays
import pyarrow as pa

FIRST = dt.date(1990, 1, 1)
LAST = dt.date(2100, 12, 31)


def working_days(start: dt.date, end: dt.date) -> pa.Table:
    start, end = max(start, FIRST), min(end, LAST)
    feries = _holidays(start.year, end.year)
    days, months, open_ = [], [], []
    day = start
    while day <= end:
        days.append(day)
        months.append(day.replace(day=1))
        open_.append(day.weekday() < 5 and day not in feries)
        day += dt.timedelta(days=1)
    return pa.table(
        {
            "jour": pa.array(days, pa.date32()),
            "mois": pa.array(months, pa.date32()),
            "ouvre": pa.array(open_, pa.bool_()),
        }
    )


@lru_cache(maxsize=16)
def _holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    """Metropolitan French public holidays (no subdivision: no Alsace-Moselle extra days)."""
    return frozenset(holidays.country_holidays("FR", years=range(first_year, last_year + 1)))


def build_calendar(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Create ``calendrier`` covering the pay periods of ``source`` (debut, fin columns)."""
    row = con.execute(f"SELECT min(debut), max(fin) FROM {source} WHERE fin >= debut").fetchone()
    if not row or row[0] is None:
        table = working_days(dt.date(2000, 1, 1), dt.date(1999, 12, 31))
    else:
        table = working_days(row[0], row[1])
    con.register("calendrier_arrow", table)
    con.execute("CREATE OR REPLACE TABLE calendrier AS SELECT * FROM calendrier_arrow")
    con.unregister("calendrier_arrow")
    return table.num_rows
