"""One month of payroll: which contracts are declared, their pay period, hours, absences and pay.

Hours and amounts are integers in hundredths (cents, centi-hours) so that the declared values,
their sums and the truth agree exactly.

Conventions (what an exact consolidation should recover):
- a pay period is the calendar month, or the 16th of the previous month to the 15th for
  'shifted' payrolls; it is clipped to the contract and the last period runs to the end date;
- hours accrue uniformly over the working days (Mon-Fri minus French public holidays) of the
  period: daily hours = min(weekly, 35) / 5; structural overtime (39 h contracts, type 018)
  and overtime (type 017) are spread over the same working days;
- days are declared for 35 h contracts of 'day unit' employers: 1 day = 7 hours exactly;
- the truth splits every period over calendar months by those working days, except that
  absences (unpaid hours) fall on their own dates: a ratio split of a period with an absence
  is therefore an approximation that the truth does not share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import hashrand
from .careers import Contracts
from .economy import Economy
from .workdays import WorkCalendar, add_months, day


@dataclass
class MonthRows:
    """Column arrays for the contracts declared in one month (one row per contract)."""

    c: np.ndarray  # contract index
    a: np.ndarray  # pay period start (day), b < a when no period this month
    b: np.ndarray
    daily: np.ndarray  # centi-hours per working day at base rate
    wd: np.ndarray  # working days in the period
    paid: np.ndarray  # declared paid centi-hours (type 002, 53 '01')
    unpaid: np.ndarray  # centi-hours of unpaid absence (53 '02')
    ot017: np.ndarray
    ot018: np.ndarray
    abs_kind: np.ndarray  # 0 none, 1 sick leave (60), 2 unpaid leave (65)
    abs_from: np.ndarray
    abs_to: np.ndarray
    brut: np.ndarray  # declared gross in cents (type 001)
    true_brut: np.ndarray
    inflated: np.ndarray  # centi-hours overstated this month (negative correction next month)
    corr_a: np.ndarray  # previous-month period corrected this month (corr_hours < 0)
    corr_b: np.ndarray
    corr_hours: np.ndarray
    corr_amount: np.ndarray
    hourly: np.ndarray  # cents per hour

    def take(self, idx: np.ndarray) -> MonthRows:
        return MonthRows(**{k: v[idx] for k, v in vars(self).items()})


def period_bounds(shift: np.ndarray, month: dt.date) -> tuple[np.ndarray, np.ndarray]:
    m0, m1 = day(month), day(add_months(month, 1)) - 1
    prev16 = day(add_months(month, -1).replace(day=16))
    return np.where(shift, prev16, m0), np.where(shift, day(month.replace(day=15)), m1)


def _period(
    con: Contracts, c: np.ndarray, shift: np.ndarray, month: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    ps, pe = period_bounds(shift, month)
    m1 = day(add_months(month, 1)) - 1
    a = np.maximum(con.start[c], ps)
    b = np.where(con.end[c] <= m1, con.end[c], pe)
    return a, b


def _overstatement(seed: int, rate: float, c: np.ndarray, mi: int, daily: np.ndarray) -> np.ndarray:
    u = hashrand.uniform(seed, "negcorr", c, mi)
    days = 1 + (hashrand.uniform(seed, "negcorr-days", c, mi) * 3).astype(np.int64)
    return np.where(u < rate, daily * days, 0)


def month_rows(
    con: Contracts,
    eco: Economy,
    cal: WorkCalendar,
    c: np.ndarray,
    month: dt.date,
    mi: int,
    n_months: int,
    seed: int,
    negcorr_rate: float,
) -> MonthRows:
    m1 = day(add_months(month, 1)) - 1
    shift = eco.pay_shift[eco.company[con.etab[c]]]
    a, b = _period(con, c, shift, month)
    weekly = con.weekly[c]
    daily = (np.minimum(weekly, 35.0) * 20).astype(np.int64)  # centi-hours: h/5*100
    wd = cal.count(a, b)
    has = (b >= a) & (wd > 0)

    u = hashrand.uniform(seed, "absence", c, mi)
    long_enough = has & (b - a >= 3)
    kind = np.where(long_enough & (u < 0.03), 1, np.where(long_enough & (u < 0.045), 2, 0))
    start_off = (hashrand.uniform(seed, "absence-start", c, mi) * (b - a + 1)).astype(np.int64)
    length = 1 + (hashrand.uniform(seed, "absence-len", c, mi) * 10).astype(np.int64)
    x = a + start_off
    y = np.minimum(b, x + length - 1)
    absent_wd = np.where(kind > 0, cal.count(x, y), 0)
    kind = np.where(absent_wd > 0, kind, 0)
    unpaid = daily * absent_wd
    paid_true = daily * (wd - absent_wd)

    u = hashrand.uniform(seed, "overtime", c, mi)
    ot017 = np.where(has & (weekly == 35.0) & (u < 0.10), 100 * (1 + (u * 190).astype(np.int64)), 0)
    ot018 = np.where(has & (weekly > 35.0), ((weekly - 35.0) * 20).astype(np.int64) * wd, 0)

    hourly = np.round(con.salary[c] * 100 / 151.67).astype(np.int64)
    true_brut = (paid_true * hourly + (ot017 + ot018) * hourly * 125 // 100) // 100

    # Negative corrections: overstate this month, correct in the next month's declaration.
    can = has & (con.end[c] > m1) & (mi < n_months - 1) & (wd > 3)
    inflated = np.where(can, _overstatement(seed, negcorr_rate, c, mi, daily), 0)
    paid = paid_true + inflated
    brut = true_brut + inflated * hourly // 100

    prev = add_months(month, -1)
    pa, pb = _period(con, c, shift, prev)
    prev_m1 = day(month) - 1
    prev_wd = cal.count(pa, pb)
    prev_can = (con.start[c] <= prev_m1) & (pb >= pa) & (prev_wd > 3) & (mi > 0)
    prev_can &= eco.created[con.etab[c]] <= prev_m1
    corr = np.where(prev_can, _overstatement(seed, negcorr_rate, c, mi - 1, daily), 0)

    return MonthRows(
        c=c,
        a=a,
        b=np.where(has, b, a - 1),
        daily=daily,
        wd=np.where(has, wd, 0),
        paid=np.where(has, paid, 0),
        unpaid=unpaid,
        ot017=ot017,
        ot018=ot018,
        abs_kind=kind,
        abs_from=x,
        abs_to=y,
        brut=np.where(has, brut, 0),
        true_brut=np.where(has, true_brut, 0),
        inflated=inflated,
        corr_a=pa,
        corr_b=pb,
        corr_hours=-corr,
        corr_amount=-(corr * hourly // 100),
        hourly=hourly,
    )


def calendar_split(rows: MonthRows, cal: WorkCalendar) -> dict[str, np.ndarray]:
    """True hours per calendar month from this month's periods (at most two months each)."""
    has = rows.wd > 0
    a, b = rows.a[has], rows.b[has]
    a_days = a.astype("datetime64[D]")
    first_b = (
        b.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    )
    end_a = (a_days.astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64) - 1
    parts = [(a, np.minimum(b, end_a)), (np.maximum(first_b, a), b)]
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("c", "mois", "rem", "nonrem", "supp")}
    x, y = rows.abs_from[has], rows.abs_to[has]
    absent = rows.abs_kind[has] > 0
    daily, wd = rows.daily[has], rows.wd[has]
    extra = rows.ot017[has] + rows.ot018[has]
    for i, (pa, pb) in enumerate(parts):
        keep = np.ones(len(pa), dtype=bool) if i == 0 else first_b > a
        part_wd = cal.count(pa, pb)
        part_abs = np.where(absent, cal.count(np.maximum(x, pa), np.minimum(y, pb)), 0)
        out["c"].append(rows.c[has][keep])
        out["mois"].append(
            pa[keep].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        )
        out["rem"].append((daily * (part_wd - part_abs))[keep])
        out["nonrem"].append((daily * part_abs)[keep])
        out["supp"].append((extra * part_wd / np.maximum(wd, 1))[keep])
    return {k: np.concatenate(v) for k, v in out.items()}
