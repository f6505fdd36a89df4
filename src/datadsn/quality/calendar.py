"""The day calendar used to split pay periods: working day = Monday-Friday and not a French
public holiday (metropolitan list of the ``holidays`` package, as the reference).

The holidays ship as a generated list (``data/jours_feries.txt``, 1990-2100): importing the
package and its first computation took 0.7 s, paid by every process that consolidates a month
(a third of a one-month ``datadsn consolidate`` at 20,000 employees). A test compares the list
with the package; ``make feries`` regenerates it when the package changes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from datadsn.engine.backends import Backend
from datadsn.engine.runner import table_from_lists

FIRST = dt.date(1990, 1, 1)
LAST = dt.date(2100, 12, 31)
HOLIDAYS_FILE = Path(__file__).parent / "data" / "jours_feries.txt"


def working_days(start: dt.date, end: dt.date) -> dict[str, list]:
    """Columns ``jour``, ``mois`` (its first day) and ``ouvre`` of the days ``start`` to ``end``
    (plain lists, loaded by ``table_from_lists``)."""
    start, end = max(start, FIRST), min(end, LAST)
    feries = public_holidays()
    days, months, open_ = [], [], []
    day = start
    while day <= end:
        days.append(day)
        months.append(day.replace(day=1))
        open_.append(day.weekday() < 5 and day not in feries)
        day += dt.timedelta(days=1)
    return {"jour": days, "mois": months, "ouvre": open_}


@lru_cache(maxsize=1)
def public_holidays() -> frozenset[dt.date]:
    """The shipped list of metropolitan French public holidays, ``FIRST`` to ``LAST``."""
    lines = HOLIDAYS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(dt.date.fromisoformat(x) for x in lines if x and not x.startswith("#"))


def library_holidays() -> list[dt.date]:
    """Metropolitan French public holidays from the ``holidays`` package (no subdivision: no
    Alsace-Moselle extra days), the source of the shipped list."""
    import holidays  # development dependency: only the generator and its test need it

    found = holidays.country_holidays("FR", years=range(FIRST.year, LAST.year + 1))
    return sorted(found)


def generate_holidays(target: Path = HOLIDAYS_FILE) -> int:
    """Write the shipped list from the package; returns the number of days."""
    import holidays

    days = library_holidays()
    header = (
        f"# Jours fériés nationaux (métropole), {FIRST.year}-{LAST.year}, générés depuis le "
        f"paquet holidays {holidays.__version__} : make feries\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + "".join(f"{d.isoformat()}\n" for d in days), encoding="utf-8")
    return len(days)


def build_calendar(db: Backend, source: str) -> int:
    """Create ``calendrier`` covering the pay periods of ``source`` (debut, fin columns)."""
    start, end = db.rows(f"SELECT min(debut), max(fin) FROM {source} WHERE fin >= debut")[0]
    if start is None:
        table = working_days(dt.date(2000, 1, 1), dt.date(1999, 12, 31))
    else:
        table = working_days(start, end)
    types = {"jour": "DATE", "mois": "DATE", "ouvre": "BOOLEAN"}
    table_from_lists(db, "calendrier", {c: (types[c], values) for c, values in table.items()})
    return len(table["jour"])


if __name__ == "__main__":
    print(f"{generate_holidays()} jours fériés écrits dans {HOLIDAYS_FILE}")
