"""Persons and contracts: stock at the window start, hires and ends, interim missions, transfers.

Contracts are intervals [start, end] in day numbers (end = NEVER while open after the window).
One person never holds two contracts at once: a re-hired person is chained to a contract that
ended strictly before the new start, which rules out overlaps at one employer by construction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import referentials as ref
from .economy import NEVER, Economy
from .restructure import MERGE, Restructurings, moved_contracts
from .workdays import add_months, day, to_date

CDI, CDD, INTERIM = "01", "02", "03"


@dataclass
class Contracts:
    etab: np.ndarray
    person: np.ndarray
    nature: np.ndarray  # S21.G00.40.007
    dispositif: np.ndarray  # S21.G00.40.008 ('' when none)
    recours: np.ndarray  # S21.G00.40.021 ('' when none)
    start: np.ndarray  # true start at this employer
    declared_start: np.ndarray  # 40.001 (original start for transferred contracts)
    end: np.ndarray  # last day, NEVER when still open after the window
    planned_end: np.ndarray  # 40.010 for fixed-term contracts, NEVER otherwise
    motif_fin: np.ndarray  # S21.G00.62.002, '' when open
    user_etab: np.ndarray  # establishment index of the interim user, -1 otherwise
    weekly: np.ndarray  # contractual weekly hours
    job: np.ndarray  # index into referentials.JOBS
    salary: np.ndarray  # monthly gross for a full-time month
    numero: np.ndarray  # S21.G00.40.009
    previous: np.ndarray  # contract continued by this one after a transfer, -1 otherwise
    restructuring: np.ndarray  # index into Restructurings for a moved contract, -1 otherwise

    def __len__(self) -> int:
        return len(self.etab)


@dataclass
class Persons:
    nir: np.ndarray
    sexe: np.ndarray  # '01' / '02'
    birth: np.ndarray  # day number
    nom: np.ndarray
    prenoms: np.ndarray
    birth_commune: np.ndarray  # index into COMMUNES


def _pick(rng: np.random.Generator, codes: list[str], w: list[float], n: int) -> np.ndarray:
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=ref.weights(w))]


def _cdd_days(rng: np.random.Generator, n: int) -> np.ndarray:
    # Most CDD hires are very short (DARES: a third last one day or less, median about 5 weeks).
    bucket = rng.choice(4, size=n, p=[0.25, 0.30, 0.30, 0.15])
    lo = np.array([1, 8, 32, 183])[bucket]
    hi = np.array([7, 31, 182, 540])[bucket]
    return rng.integers(lo, hi + 1)


def _mission_days(rng: np.random.Generator, n: int) -> np.ndarray:
    # Interim missions: half last under a week (DARES: mean about 2 weeks).
    bucket = rng.choice(4, size=n, p=[0.45, 0.35, 0.16, 0.04])
    lo = np.array([1, 6, 31, 121])[bucket]
    hi = np.array([5, 30, 120, 540])[bucket]
    return rng.integers(lo, hi + 1)


def _chain_persons(
    end: np.ndarray,
    start: np.ndarray,
    ends: np.ndarray,
    hires: np.ndarray,
) -> np.ndarray:
    """parent[i] = contract whose person is re-hired by contract i (-1 = new person).

    Greedy FIFO: hires in start order take the earliest free end strictly before their start.
    The queue pointer has the closed form p_i = i + min(1, cummin(cnt_k - k)).
    """
    parent = np.full(len(end), -1, dtype=np.int64)
    if len(ends) == 0 or len(hires) == 0:
        return parent
    ends = ends[np.argsort(end[ends], kind="stable")]
    hires = hires[np.argsort(start[hires], kind="stable")]
    cnt = np.searchsorted(end[ends], start[hires], side="left")
    k = np.arange(len(hires))
    p = k + np.minimum(1, np.minimum.accumulate(cnt - k))
    prev = np.concatenate([[0], p[:-1]])
    matched = p > prev
    parent[hires[matched]] = ends[p[matched] - 1]
    return parent


def build_contracts(
    rng: np.random.Generator,
    eco: Economy,
    first: dt.date,
    last: dt.date,
    moves: Restructurings | None = None,
    moves_rng: np.random.Generator | None = None,
) -> tuple[Contracts, Persons]:
    w0, w1 = day(first), day(last)
    months = max(1, round((w1 - w0) / 30.4))
    begin = np.maximum(eco.created, w0)
    stop = np.minimum(eco.closed, w1)
    non_agency = np.flatnonzero(~eco.agency & (eco.closed == NEVER) & (eco.created < w0))
    if len(non_agency) == 0:
        non_agency = np.flatnonzero(~eco.agency)

    # Stock: the agency's size is its missions; it also has a few permanent staff.
    own = np.where(eco.agency, np.maximum(1, eco.size // 15), eco.size)
    hires_n = rng.poisson(eco.size * months * np.where(eco.agency, 1.2, 0.048))
    etab = np.concatenate(
        [
            np.repeat(np.arange(eco.n_etab), own),
            np.repeat(np.flatnonzero(eco.agency), eco.size[eco.agency]),
            np.repeat(np.arange(eco.n_etab), hires_n),
        ]
    )
    kind = np.concatenate(
        [
            np.zeros(own.sum(), dtype=np.int8),  # 0 = stock of own staff
            np.ones(eco.size[eco.agency].sum(), dtype=np.int8),  # 1 = stock of missions
            np.where(eco.agency, 3, 2).repeat(hires_n).astype(np.int8),  # 2 hires, 3 missions
        ]
    )
    n = len(etab)
    interim = kind % 2 == 1
    in_window = kind >= 2
    nature = np.where(interim, INTERIM, _pick(rng, [CDI, CDD, "AP"], [87, 9, 4], n))
    nature = np.where(in_window & ~interim, _pick(rng, [CDI, CDD, "AP"], [22, 74, 4], n), nature)
    apprentice = nature == "AP"
    nature = np.where(apprentice, CDD, nature)
    small = eco.size[etab] < 11
    dispositif = np.where(apprentice, np.where(small, "64", "65"), "")
    recours = np.where(
        (nature == CDD) & ~apprentice | interim,
        _pick(rng, ["01", "02", "03", "05"], [45, 40, 10, 5], n),
        "",
    )

    # Start dates: stock before the window (or at the establishment's creation), hires inside.
    seniority = rng.exponential(2500, n).astype(np.int64) + 1
    start = np.where(nature == CDI, w0 - seniority, w0 - rng.integers(1, 120, n))
    start = np.where(apprentice, w0 - rng.integers(1, 700, n), start)
    start = np.maximum(start, eco.created[etab])
    span = np.maximum(stop[etab] - begin[etab], 1)
    start = np.where(in_window, begin[etab] + (rng.random(n) * span).astype(np.int64), start)

    length = np.where(interim, _mission_days(rng, n), _cdd_days(rng, n))
    length = np.where(apprentice, rng.choice([730, 1095], n), length)
    end = start + length - 1
    # Stock fixed-term contracts still run at the window start.
    end = np.where(~in_window & (end < w0), w0 + rng.integers(0, 150, n), end)
    cdi = nature == CDI
    remaining = rng.exponential(3000, n).astype(np.int64)
    end = np.where(cdi, np.maximum(start, w0) + remaining, end)
    planned_end = np.where(cdi, NEVER, end)

    motif = np.where(
        cdi,
        _pick(
            rng,
            ["059", "043", "020", "034", "035", "039", "014", "087"],
            [40, 20, 12, 8, 5, 8, 4, 3],
            n,
        ),
        _pick(rng, ["031", "059", "034", "084"], [85, 7, 4, 4], n),
    )
    motif = np.where(interim, "032", motif)
    motif = np.where(apprentice, _pick(rng, ["081", "036"], [90, 10], n), motif)
    early = (nature == CDD) & (motif != "031") & (length > 10)
    end = np.where(early, start + (length * rng.uniform(0.3, 0.9, n)).astype(np.int64), end)
    # Closing establishments end every running contract on the closing day.
    closes = eco.closed[etab] < end
    if moves is not None:  # a merged site's contracts move to the head office, they do not end
        closes &= ~np.isin(etab, moves.src[moves.kind == MERGE])
    end = np.where(closes, eco.closed[etab], end)
    motif = np.where(closes, "012", motif)
    keep = start < eco.closed[etab]
    open_ = end > w1
    end = np.where(open_, NEVER, end)
    motif = np.where(open_, "", motif)

    user = np.where(interim, non_agency[rng.integers(len(non_agency), size=n)], -1)
    weekly = np.where(rng.random(n) < 0.22, rng.choice([17.5, 24.0, 28.0, 30.0], n), 35.0)
    weekly = np.where((weekly == 35.0) & (rng.random(n) < 0.06), 39.0, weekly)
    job = rng.integers(len(ref.JOBS), size=n)
    cadre = np.array([j[3] for j in ref.JOBS])[job]
    salary = np.round(np.exp(rng.normal(7.75, 0.25, n)) * np.where(cadre, 1.6, 1.0), 2)
    salary = np.maximum(salary, 1800.0)
    salary = np.where(apprentice, 950.0 + rng.integers(0, 500, n), salary)

    sel = np.flatnonzero(keep)
    etab, kind, nature, dispositif, recours = (
        etab[sel],
        kind[sel],
        nature[sel],
        dispositif[sel],
        recours[sel],
    )
    start, end, planned_end, motif = start[sel], end[sel], planned_end[sel], motif[sel]
    user, weekly, job, salary = user[sel], weekly[sel], job[sel], salary[sel]
    n = len(sel)
    interim = kind % 2 == 1

    previous = np.full(n, -1, dtype=np.int64)
    declared_start = start.copy()
    # Transfers between employers (employer change with 41.012), on the first day of a month.
    cand = np.flatnonzero(
        (nature == CDI) & (rng.random(n) < 0.02) & (end - np.maximum(start, w0) > 120)
    )
    t_month = (
        np.maximum(start[cand], w0)
        + 45
        + (
            rng.random(len(cand)) * (np.minimum(end[cand], w1) - np.maximum(start[cand], w0) - 75)
        ).astype(np.int64)
    )
    t_day = np.array(
        [day(add_months(to_date(int(t)).replace(day=1), 1)) for t in t_month], dtype=np.int64
    )
    ok = t_day < np.minimum(end[cand], w1) - 20
    cand, t_day = cand[ok], t_day[ok]
    siblings = _transfer_targets(rng, eco, etab[cand], t_day, non_agency)
    ok = siblings >= 0
    cand, t_day, siblings = cand[ok], t_day[ok], siblings[ok]
    cols = {
        "etab": etab,
        "nature": nature,
        "dispositif": dispositif,
        "recours": recours,
        "start": start,
        "declared_start": declared_start,
        "end": end,
        "planned_end": planned_end,
        "motif": motif,
        "user": user,
        "weekly": weekly,
        "job": job,
        "salary": salary,
        "previous": previous,
        "kind": kind,
        "event": np.full(n, -1, dtype=np.int64),
    }
    _continue(cols, cand, t_day, siblings, -1)
    # Restructurings (--noise hard): contracts running at a split or merged site move the same way.
    if moves is not None and len(moves):
        c, e = moved_contracts(
            moves_rng or rng, moves, cols["etab"], cols["start"], cols["end"], cols["motif"]
        )
        _continue(cols, c, moves.when[e], moves.dst[e], e)
    etab, nature, dispositif, recours, start, declared_start, end, planned_end, motif = (
        cols[k]
        for k in (
            "etab",
            "nature",
            "dispositif",
            "recours",
            "start",
            "declared_start",
            "end",
            "planned_end",
            "motif",
        )
    )
    user, weekly, job, salary = (cols[k] for k in ("user", "weekly", "job", "salary"))
    previous, kind, event = cols["previous"], cols["kind"], cols["event"]
    n = len(etab)
    interim = kind % 2 == 1

    # Persons: re-hires chain onto ended contracts (interim workers mostly stay with agencies).
    ends_pool = (end <= w1) & (motif != "998")
    hire = (start >= w0) & (previous < 0)
    reuse = rng.random(n) < np.where(interim, 0.7, 0.3)
    parent = np.full(n, -1, dtype=np.int64)
    for group in (interim, ~interim):
        p = _chain_persons(
            end, start, np.flatnonzero(ends_pool & group), np.flatnonzero(hire & reuse & group)
        )
        parent = np.where(p >= 0, p, parent)
    parent = np.where(previous >= 0, previous, parent)
    root = np.where(parent >= 0, parent, np.arange(n))
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    uniq, person = np.unique(root, return_inverse=True)

    order = np.lexsort((start, etab))  # numbering follows hires within each establishment
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(n)
    numero = np.char.zfill((seq + 1).astype(str), 6).astype(object)
    moved = np.flatnonzero(previous >= 0)  # appended after what they continue: in order
    for i in moved:
        numero[i] = numero[previous[i]]

    contracts = Contracts(
        etab=etab,
        person=person,
        nature=nature.astype(object),
        dispositif=dispositif.astype(object),
        recours=recours.astype(object),
        start=start,
        declared_start=declared_start,
        end=end,
        planned_end=planned_end,
        motif_fin=motif.astype(object),
        user_etab=user,
        weekly=weekly,
        job=job,
        salary=salary,
        numero=numero,
        previous=previous,
        restructuring=event,
    )
    first_start = np.full(len(uniq), NEVER, dtype=np.int64)
    np.minimum.at(first_start, person, start)
    age_min = np.where(np.isin(np.arange(len(uniq)), person[dispositif != ""]), 16, 18)
    persons = _build_persons(rng, len(uniq), first_start, age_min, w0)
    return contracts, persons


def _continue(
    cols: dict[str, np.ndarray],
    cand: np.ndarray,
    when: np.ndarray,
    target: np.ndarray,
    event: int | np.ndarray,
) -> None:
    """Contracts ``cand`` end the day before ``when`` and continue at ``target`` (appended rows)."""
    if len(cand) == 0:
        return
    for name, values in cols.items():
        cols[name] = np.concatenate([values, values[cand]])
    n = len(cols["etab"]) - len(cand)
    new = slice(n, None)
    cols["etab"][new] = target
    cols["start"][new] = when
    cols["previous"][new] = cand
    cols["event"][new] = event
    cols["end"][cand] = when - 1
    cols["motif"][cand] = "998"  # transfer without a break: not declared as an end by the old one


def _transfer_targets(
    rng: np.random.Generator, eco: Economy, etab: np.ndarray, when: np.ndarray, pool: np.ndarray
) -> np.ndarray:
    """Another establishment of the same company when there is one, else any stable employer."""
    company = eco.company[etab]
    first = np.searchsorted(eco.company, company, side="left")
    count = np.searchsorted(eco.company, company, side="right") - first
    offset = 1 + (rng.random(len(etab)) * np.maximum(count - 1, 1)).astype(np.int64)
    sibling = first + (etab - first + offset) % np.maximum(count, 1)
    other = pool[rng.integers(len(pool), size=len(etab))] if len(pool) else etab
    target = np.where(count > 1, sibling, other)
    valid = (target != etab) & (eco.created[target] < when) & (eco.closed[target] > when + 400)
    valid &= ~eco.agency[target]
    return np.where(valid, target, -1)


def _build_persons(
    rng: np.random.Generator, n: int, first_start: np.ndarray, age_min: np.ndarray, w0: int
) -> Persons:
    sexe = np.where(rng.random(n) < 0.5, "01", "02").astype(object)
    # Age at the first start, so that nobody is older than 65 inside the window.
    years_before = np.maximum(0, (w0 - np.minimum(first_start, w0)) / 365.25)
    upper = np.maximum(age_min + 1, 64 - years_before)
    age_days = (rng.uniform(age_min, upper, n) * 365.25).astype(np.int64)
    birth = first_start - age_days
    birth = np.where(first_start == NEVER, day(dt.date(1980, 1, 1)), birth)
    commune = rng.choice(len(ref.COMMUNES), size=n, p=ref.weights([c[4] for c in ref.COMMUNES]))
    bdates = birth.astype("datetime64[D]")
    yy = (bdates.astype("datetime64[Y]").astype(int) + 1970) % 100
    mm = bdates.astype("datetime64[M]").astype(int) % 12 + 1
    dep = np.array([c[3][:2] for c in ref.COMMUNES], dtype=object)[commune]
    com = rng.integers(1, 999, n)
    # Order number: rank inside the (sex, year, month, place) bucket keeps NIRs unique.
    _, dep_idx = np.unique(dep.astype(str), return_inverse=True)
    bucket = (((np.where(sexe == "01", 1, 2) * 100 + yy) * 13 + mm) * 100 + dep_idx) * 1000 + com
    order = np.argsort(bucket, kind="stable")
    sb = bucket[order]
    is_new = np.concatenate([[True], sb[1:] != sb[:-1]])
    grp_start = np.maximum.accumulate(np.where(is_new, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - grp_start
    nir = (
        np.where(sexe == "01", "1", "2").astype(object)
        + np.char.zfill(yy.astype(str), 2).astype(object)
        + np.char.zfill(mm.astype(str), 2).astype(object)
        + dep
        + np.char.zfill(com.astype(str), 3).astype(object)
        + np.char.zfill((rank % 999 + 1).astype(str), 3).astype(object)
    )
    male = sexe == "01"
    first = np.where(
        male,
        np.array(ref.FIRST_NAMES_M, dtype=object)[rng.integers(len(ref.FIRST_NAMES_M), size=n)],
        np.array(ref.FIRST_NAMES_F, dtype=object)[rng.integers(len(ref.FIRST_NAMES_F), size=n)],
    )
    nom = np.array(ref.SURNAMES, dtype=object)[rng.integers(len(ref.SURNAMES), size=n)]
    return Persons(nir=nir, sexe=sexe, birth=birth, nom=nom, prenoms=first, birth_commune=commune)
