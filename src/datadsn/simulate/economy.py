"""Employers: companies (SIREN) and their establishments (SIRET), with heavy-tailed sizes.

Everything is drawn column-wise with numpy from one generator, so the same seed gives the
same economy whatever the later steps do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import referentials as ref
from .workdays import day

NEVER = 2**31 - 1  # day number standing for "no date" (open contract, establishment never closed)


@dataclass
class Economy:
    # per company
    siren: np.ndarray
    company_name: np.ndarray
    pay_shift: np.ndarray  # True: pay periods run from the 16th to the 15th
    day_unit: np.ndarray  # True: paid work declared in days (53.003 = '12')
    multi_envoi: np.ndarray  # True: one envoi for all establishments of the company
    # per establishment
    company: np.ndarray
    nic: np.ndarray
    siret: np.ndarray
    naf: np.ndarray
    idcc: np.ndarray
    commune: np.ndarray  # index into referentials.COMMUNES
    street: np.ndarray  # address text
    size: np.ndarray  # target headcount
    agency: np.ndarray  # temp agency (NAF 7820Z)
    created: np.ndarray  # day number
    closed: np.ndarray  # day number of closure, NEVER when open
    fractions: np.ndarray  # 1 or 2 fractions per monthly declaration
    is_siege: np.ndarray

    @property
    def n_etab(self) -> int:
        return len(self.siret)


def luhn_complete(body: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to 8-digit integers (SIREN rule)."""
    digits = np.stack([(body // 10**k) % 10 for k in range(8)], axis=1)  # least significant first
    doubled = digits.copy()
    doubled[:, ::2] *= 2  # positions that get doubled once the check digit is appended
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return body * 10 + check


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    draw = rng.integers(low, high, size=int(n * 1.3) + 16)
    _, first = np.unique(draw, return_index=True)
    keep = draw[np.sort(first)]
    assert len(keep) >= n
    return keep[:n]


def build_economy(
    rng: np.random.Generator,
    employers: int,
    employees: int | None,
    start: dt.date,
    end: dt.date,
) -> Economy:
    n = employers
    # Heavy tail: most companies tiny, a few with thousands (lognormal body, Pareto-ish top).
    size = np.floor(np.exp(rng.normal(0.9, 1.5, n))).astype(np.int64)
    # A Pareto tail on top of the lognormal body: about 1 company in 150 has hundreds to
    # thousands of employees (INSEE: 0.2 % of firms employ about half of private-sector staff).
    big = rng.random(n) < 0.007
    size = np.where(big, 250 + (rng.pareto(1.1, n) * 400).astype(np.int64), size)
    size = np.clip(size, 1, 8000)
    if employees is not None:
        size = np.maximum(1, np.round(size * employees / size.sum())).astype(np.int64)
    naf_idx = rng.choice(len(ref.NAF), size=n, p=ref.weights([x[1] for x in ref.NAF]))
    naf = np.array([x[0] for x in ref.NAF], dtype=object)[naf_idx]
    idcc = np.array([x[2] for x in ref.NAF], dtype=object)[naf_idx]
    label = np.array([x[3] for x in ref.NAF], dtype=object)[naf_idx]
    # About 2 % of employers are temp agencies; their size counts missions running at once.
    agency = rng.random(n) < 0.02
    if n >= 10 and not agency.any():
        agency[int(rng.integers(n))] = True
    naf = np.where(agency, ref.TEMP_AGENCY_NAF, naf)
    idcc = np.where(agency, ref.TEMP_AGENCY_IDCC, idcc)
    label = np.where(agency, "INTERIM", label)
    size = np.where(agency, np.maximum(size * 3, 5), size)

    siren = luhn_complete(_unique_ints(rng, n, 10_000_000, 99_999_999)).astype(str)
    surname = np.array(ref.SURNAMES, dtype=object)[rng.integers(len(ref.SURNAMES), size=n)]
    company_name = label + " " + surname

    # Establishments: big companies are split over several sites.
    n_etab = 1 + np.minimum(rng.poisson(np.maximum(size - 10, 0) / 120), 40)
    company = np.repeat(np.arange(n), n_etab)
    rank = np.arange(len(company)) - np.repeat(np.cumsum(n_etab) - n_etab, n_etab)
    share = rng.exponential(1.0, len(company))
    share /= np.bincount(company, weights=share)[company]
    etab_size = np.maximum(1, np.round(size[company] * share)).astype(np.int64)
    nic_num = 10 + 13 * rank + rng.integers(0, 9, len(company))
    nic = np.char.zfill(nic_num.astype(str), 5).astype(object)
    siret = siren[company].astype(object) + nic

    commune = rng.choice(
        len(ref.COMMUNES), size=len(company), p=ref.weights([c[4] for c in ref.COMMUNES])
    )
    street_no = rng.integers(1, 180, len(company)).astype(str)
    streets = np.array(ref.STREETS, dtype=object)[rng.integers(len(ref.STREETS), size=len(company))]
    street = street_no.astype(object) + ", " + streets

    w0, w1 = day(start), day(end)
    span = w1 - w0
    created = w0 - rng.integers(200, 40 * 365, len(company))
    newcomer = (rng.random(len(company)) < 0.08) & (rank > 0) | (rng.random(len(company)) < 0.04)
    created = np.where(newcomer, w0 + rng.integers(0, max(span - 60, 1), len(company)), created)
    closing = (rng.random(len(company)) < 0.06) & ~agency[company] & (span > 120)
    closed_at = np.maximum(created, w0) + 60 + rng.integers(0, max(span, 1), len(company))
    closed = np.where(closing & (closed_at < w1), closed_at, NEVER)
    fractions = np.where((etab_size >= 40) & (rng.random(len(company)) < 0.15), 2, 1)
    # Fractions are separate files: a company sending one envoi for all its sites does not fraction.
    multi_envoi = (n_etab > 1) & (rng.random(n) < 0.5)
    fractions = np.where(multi_envoi[company], 1, fractions)

    return Economy(
        siren=siren.astype(object),
        company_name=company_name,
        pay_shift=rng.random(n) < 0.15,
        day_unit=rng.random(n) < 0.10,
        multi_envoi=multi_envoi,
        company=company,
        nic=nic,
        siret=siret,
        naf=naf[company],
        idcc=idcc[company],
        commune=commune,
        street=street,
        size=etab_size,
        agency=agency[company],
        created=created,
        closed=closed,
        fractions=fractions,
        is_siege=rank == 0,
    )
