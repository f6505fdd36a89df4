"""Planned declaration defects per contract and per person, drawn once before the month loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import referentials as ref
from .careers import Contracts, Persons
from .economy import NEVER, Economy
from .noise import NoiseProfile


def month_index(days: np.ndarray, base: int) -> np.ndarray:
    """Months since the window's first month (base = that month as months since 1970-01)."""
    safe = np.minimum(days, 2_000_000)
    return safe.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - base


@dataclass
class Plan:
    first_mi: np.ndarray  # first declared month of each contract
    last_mi: np.ndarray
    numchg_mi: np.ndarray  # month of the contract number change, -1 none
    old_numero: np.ndarray
    datecorr_mi: np.ndarray  # month of the start-date correction, -1 none
    wrong_start: np.ndarray
    nir_absent_until: np.ndarray  # NIR omitted in months < this, -1 none
    forgot_end: np.ndarray
    cancel_mi: np.ndarray  # month of a wrongly declared end (cancelled with 099 next month)
    cancel_date: np.ndarray
    silent: np.ndarray  # per establishment: closes without end blocks
    person_kind: np.ndarray  # 0 none, 1 change+block, 2 change w/o block, 3 fragmented, 4 NIR fix
    person_mi: np.ndarray
    old_nom: np.ndarray
    old_ddn: np.ndarray  # day number of the wrong birth date (kind 3)
    wrong_nir: np.ndarray
    done31: np.ndarray  # per contract: change block already declared
    seen_old: np.ndarray  # per person: declared under its old identity
    person_done: np.ndarray  # per person: identity change already listed in the anomalies


def plan_events(
    rng: np.random.Generator,
    con: Contracts,
    per: Persons,
    eco: Economy,
    noise: NoiseProfile,
    w0: int,
    w1: int,
    base: int,
    n_months: int,
) -> Plan:
    n = len(con)
    first = month_index(np.maximum(con.start, w0), base)
    last = month_index(np.minimum(con.end, w1), base)
    multi = last - first >= 1
    hired = (con.start >= w0) & (con.previous < 0)

    u = rng.random(n)
    numchg = multi & (u < noise.contract_number_change) & (con.previous < 0)
    numchg_mi = np.where(numchg, first + 1 + (rng.random(n) * (last - first)).astype(np.int64), -1)
    numchg_mi = np.where(numchg_mi > last, last, numchg_mi)
    old_numero = np.full(n, None, dtype=object)
    old_numero[numchg] = "M" + con.numero[numchg]

    u = rng.random(n)
    datecorr = multi & hired & ~numchg & (u < noise.start_date_correction)
    datecorr_mi = np.where(datecorr, first + 1, -1)
    wrong_start = np.where(datecorr, con.start - rng.integers(1, 4, n), con.start)

    u = rng.random(n)
    nir_absent = multi & hired & (u < noise.nir_absent_then_present)
    nir_absent_until = np.where(nir_absent, first + 1, -1)

    ended = (con.end <= w1) & (con.motif_fin != "998")
    forgot = ended & (rng.random(n) < noise.forgotten_end)

    u = rng.random(n)
    cancel = (last - first >= 2) & (u < noise.cancelled_end) & ~numchg & ~datecorr
    cancel_mi = np.where(cancel, first + (rng.random(n) * (last - first - 1)).astype(np.int64), -1)
    month_start = (
        (np.maximum(cancel_mi, 0) + base)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    cancel_date = np.maximum(month_start + rng.integers(0, 27, n), con.start)

    silent = (eco.closed != NEVER) & (rng.random(eco.n_etab) < noise.silent_closure)

    m = len(per.nir)
    u = rng.random(m)
    cuts = np.cumsum(
        [
            noise.identity_change_with_block,
            noise.identity_change_without_block,
            noise.fragmented_change,
            noise.nir_correction,
        ]
    )
    kind = np.searchsorted(cuts, u, side="right") + 1
    kind = np.where(kind > 4, 0, kind)
    if n_months < 2:
        kind[:] = 0
    person_mi = 1 + (rng.random(m) * max(n_months - 1, 1)).astype(np.int64)
    # Old values only for the persons concerned (millions of persons otherwise).
    shift = 1 + rng.integers(0, len(ref.SURNAMES) - 1, m)
    surnames = np.sort(np.array(ref.SURNAMES, dtype=object))
    named = np.flatnonzero((kind >= 1) & (kind <= 3))
    old_nom = np.full(m, None, dtype=object)
    idx = np.searchsorted(surnames, per.nom[named])
    old_nom[named] = surnames[(idx + shift[named]) % len(surnames)]
    old_ddn = per.birth + np.where(rng.random(m) < 0.5, -1, 1) * rng.integers(1, 40, m)
    fixed = np.flatnonzero(kind == 4)
    wrong = np.array(
        [f"{x[:7]}{(int(x[7:10]) + 499) % 998 + 1:03d}{x[10:]}" for x in per.nir[fixed]],
        dtype=object,
    )
    clash = np.isin(wrong.astype(str), per.nir.astype(str)) if len(fixed) else np.zeros(0, bool)
    kind[fixed[clash]] = 0
    wrong_nir = np.full(m, None, dtype=object)
    wrong_nir[fixed[~clash]] = wrong[~clash]

    return Plan(
        first_mi=first,
        last_mi=last,
        numchg_mi=numchg_mi,
        old_numero=old_numero,
        datecorr_mi=datecorr_mi,
        wrong_start=wrong_start,
        nir_absent_until=nir_absent_until,
        forgot_end=forgot,
        cancel_mi=cancel_mi,
        cancel_date=cancel_date,
        silent=silent,
        person_kind=kind,
        person_mi=person_mi,
        old_nom=old_nom,
        old_ddn=old_ddn,
        wrong_nir=wrong_nir,
        done31=np.zeros(n, dtype=bool),
        seen_old=np.zeros(m, dtype=bool),
        person_done=np.zeros(m, dtype=bool),
    )
