"""Calendar helpers: months, French public holidays and working-day counts as day numbers.

Days are integers (days since 1970-01-01, numpy ``datetime64[D]``) so that every period
computation is a vectorised array operation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from datadsn import months

EPOCH = dt.date(1970, 1, 1)


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def parse_months(spec: str) -> list[dt.date]:
    """'2023-01..2024-12' (or a single '2024-03') -> first days of every month, inclusive."""
    first, last = months.parse_range(spec)
    # the simulator keeps to a narrower range than the product
    if first < "2001-01" or last > "2098-12":
        raise months.MonthError(f"années hors de la plage 2001-2098 : {spec!r}")
    return [months.to_date(m) for m in months.between(first, last)]


def add_months(d: dt.date, n: int) -> dt.date:
    return months.to_date(months.shift(months.of_date(d), n))


def month_end(d: dt.date) -> dt.date:
    return add_months(d, 1) - dt.timedelta(days=1)


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    return dt.date(year, month, (h + l_ - 7 * m + 114) % 31 + 1)


def public_holidays(year: int) -> list[dt.date]:
    """The 11 national French public holidays (no Alsace-Moselle extras)."""
    e = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = [e + dt.timedelta(days=n) for n in (1, 39, 50)]
    return sorted([dt.date(year, m, d) for m, d in fixed] + moving)


@dataclass(frozen=True)
class WorkCalendar:
    """Cumulative count of working days (Mon-Fri, not a public holiday) over a day range."""

    first: int
    cum: np.ndarray  # cum[i] = working days in [first, first + i)

    @classmethod
    def build(cls, start: dt.date, end: dt.date) -> WorkCalendar:
        first, last = day(start), day(end)
        days = np.arange(first, last + 1)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        working = weekday < 5
        holidays = {day(h) for y in range(start.year, end.year + 1) for h in public_holidays(y)}
        working &= ~np.isin(days, np.fromiter(holidays, dtype=np.int64))
        cum = np.concatenate([[0], np.cumsum(working)]).astype(np.int32)
        return cls(first, cum)

    def count(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days in [a, b] inclusive, 0 when b < a."""
        lo = np.clip(a - self.first, 0, len(self.cum) - 1)
        hi = np.clip(b + 1 - self.first, 0, len(self.cum) - 1)
        return np.where(b >= a, self.cum[hi] - self.cum[lo], 0)
