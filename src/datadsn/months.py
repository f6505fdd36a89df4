"""Months as the product writes them: ``AAAA-MM`` strings, from 1990-01 to 2099-12.

The one place that parses, checks and counts months (the consolidation, the retention, the
simulator, the indicators' periods and the flows' windows all use it). Messages are in French:
they reach the user as they are.
"""

from __future__ import annotations

import datetime as dt
import re

FIRST = "1990-01"
LAST = "2099-12"
FORMAT = "AAAA-MM"

_MONTH = re.compile(r"(\d{4})-(\d{2})")


class MonthError(ValueError):
    """A month or a range of months that is not valid (message in French)."""


def parse(text: str | None, error: type[Exception] = MonthError) -> str:
    """``text`` checked: a real month written ``AAAA-MM`` between :data:`FIRST` and :data:`LAST`.

    ``error`` is the exception raised, so that a stage raises its own kind of error."""
    value = "" if text is None else str(text).strip()
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise error(f"mois invalide {value!r} : format attendu {FORMAT}")
    if not FIRST <= value <= LAST:
        raise error(f"mois {value} hors de la plage admise ({FIRST} à {LAST})")
    return value


def index(month: str) -> int:
    """Months since year 0: differences of indexes count months."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def from_index(value: int) -> str:
    return f"{value // 12:04d}-{value % 12 + 1:02d}"


def shift(month: str, count: int) -> str:
    """The month ``count`` months after ``month`` (before it when negative)."""
    return from_index(index(month) + count)


def next_month(month: str) -> str:
    return shift(month, 1)


def previous_month(month: str) -> str:
    return shift(month, -1)


def between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when ``last`` < ``first``)."""
    return [from_index(i) for i in range(index(first), index(last) + 1)]


def parse_range(spec: str | None, error: type[Exception] = MonthError) -> tuple[str, str]:
    """``AAAA-MM..AAAA-MM`` (or one month ``AAAA-MM``) checked: its first and last months."""
    text = "" if spec is None else str(spec).strip()
    first, sep, last = text.partition("..")
    if not sep:
        last = first
    try:
        start, end = parse(first, error), parse(last, error)
    except Exception as exc:
        raise error(f"période invalide {text!r} : {exc} ({FORMAT}..{FORMAT} attendu)") from None
    if end < start:
        raise error(f"période invalide {text!r} : la fin précède le début")
    return start, end


def months_of(spec: str | None, error: type[Exception] = MonthError) -> list[str]:
    """The months of a range ``AAAA-MM..AAAA-MM`` (or of one month), in order."""
    return between(*parse_range(spec, error))


def to_date(month: str) -> dt.date:
    """The first day of ``month``."""
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def of_date(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
