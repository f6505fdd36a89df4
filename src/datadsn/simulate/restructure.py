"""Establishment restructurings: a site split in two SIRETs, or a site merged into another (its
company's head office, or another employer's site when the company is absorbed), on the first
day of a month inside the window (``--noise hard`` only).

A restructuring moves contracts like an employer transfer (``careers``): the old row ends the day
before, the new row at the other SIRET keeps the number and the original start. It is drawn from
its own random stream, so the other profiles keep their economy and every later draw.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from .economy import NEVER, Economy
from .noise import NoiseProfile
from .workdays import add_months, day, to_date

SPLIT, MERGE = 1, 2
KIND_NAMES = {SPLIT: "establishment_split", MERGE: "establishment_merge"}


@dataclass
class Restructurings:
    src: np.ndarray  # establishment whose contracts move
    dst: np.ndarray  # establishment that takes them over
    when: np.ndarray  # day number of the move (first of a month)
    kind: np.ndarray  # SPLIT or MERGE
    share: np.ndarray  # probability that a running contract moves (all of them for a merge)
    silent: np.ndarray  # the moved contracts carry no S21.G00.41.012

    def __len__(self) -> int:
        return len(self.src)


def restructure_rates(noise: NoiseProfile) -> tuple[float, float, float, float]:
    return (
        noise.establishment_split,
        noise.establishment_split_without_block,
        noise.establishment_merge,
        noise.establishment_merge_without_block,
    )


def none() -> Restructurings:
    empty = np.zeros(0, dtype=np.int64)
    return Restructurings(empty, empty, empty, empty, np.zeros(0), np.zeros(0, dtype=bool))


def restructure(
    rng: np.random.Generator,
    eco: Economy,
    w0: int,
    w1: int,
    split: float,
    split_silent: float,
    merge: float,
    merge_silent: float,
) -> tuple[Economy, Restructurings]:
    """Draw splits and merges (rates per establishment, with then without 41.012); a split adds
    its new establishment to ``eco`` (kept grouped by company)."""
    n = eco.n_etab
    if n == 0 or w1 - w0 < 180:
        return eco, none()
    stable = (eco.created < w0) & (eco.closed == NEVER) & ~eco.agency & (eco.size >= 2)
    u_split, u_merge, u_day = (rng.random(n) for _ in range(3))
    # first of a month, at least 2 months after the window start and 4 months before its end
    months = _months_between(w0, w1)
    when = months[2 + (u_day * (len(months) - 6)).astype(np.int64)]
    is_split = stable & (u_split < split + split_silent)
    is_merge = stable & ~is_split & (u_merge < merge + merge_silent)
    # into the head office of the company, else (a company absorbed) into another employer's site
    head = np.searchsorted(eco.company, eco.company, side="left")
    pool = np.flatnonzero(stable & ~is_split & ~is_merge)
    if len(pool) == 0:
        is_merge[:] = False
        pool = np.zeros(1, dtype=np.int64)
    other = pool[(rng.random(n) * len(pool)).astype(np.int64)]
    into = np.where(
        (head != np.arange(n)) & stable[head] & ~is_split[head] & ~is_merge[head], head, other
    )

    # The split-off sites: a copy of their source with a new NIC, created on the split day.
    src_split = np.flatnonzero(is_split)
    take = np.concatenate([np.arange(n), src_split])
    order = np.argsort(eco.company[take], kind="stable")
    new = replace(eco, **{f.name: _per_etab(eco, f.name, take, order) for f in fields(eco)})
    position = np.empty(len(take), dtype=np.int64)
    position[order] = np.arange(len(take))
    added = position[n:]
    nic_max = np.zeros(len(eco.siren), dtype=np.int64)
    np.maximum.at(nic_max, eco.company, eco.nic.astype(np.int64))
    company = eco.company[src_split]
    rank_in_company = _rank_within(company)
    nic = np.array([f"{x:05d}" for x in nic_max[company] + 13 * (1 + rank_in_company)], object)
    new.nic[added] = nic
    new.siret[added] = eco.siren[company] + nic
    new.created[added] = when[src_split]
    new.is_siege[added] = False
    new.fractions[added] = 1
    new.size[added] = np.maximum(1, eco.size[src_split] // 2)
    new.street[added] = eco.street[(src_split + 1) % n]
    # A merged site stops hiring on the merge day (its contracts move, they do not end).
    src_merge = np.flatnonzero(is_merge)
    new.closed[position[src_merge]] = when[src_merge]

    moves = Restructurings(
        src=np.concatenate([position[src_split], position[src_merge]]),
        dst=np.concatenate([added, position[into[src_merge]]]),
        when=np.concatenate([when[src_split], when[src_merge]]),
        kind=np.concatenate([np.full(len(src_split), SPLIT), np.full(len(src_merge), MERGE)]),
        share=np.concatenate([np.full(len(src_split), 0.5), np.ones(len(src_merge))]),
        silent=np.concatenate([u_split[src_split] >= split, u_merge[src_merge] >= merge]),
    )
    return new, moves


PER_COMPANY = {"siren", "company_name", "pay_shift", "day_unit", "multi_envoi"}


def _per_etab(eco: Economy, name: str, take: np.ndarray, order: np.ndarray) -> np.ndarray:
    values = getattr(eco, name)
    if name in PER_COMPANY:
        return values
    return values[take][order].copy()


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2... among equal values of ``group`` (in order of appearance)."""
    order = np.argsort(group, kind="stable")
    sorted_ = group[order]
    first = np.searchsorted(sorted_, sorted_, side="left")
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - first
    return rank


def _months_between(w0: int, w1: int) -> np.ndarray:
    first = to_date(w0).replace(day=1)
    out = []
    k = 0
    while (d := day(add_months(first, k))) <= w1:
        out.append(d)
        k += 1
    return np.array(out, dtype=np.int64)


def moved_contracts(
    rng: np.random.Generator,
    moves: Restructurings,
    etab: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    motif: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(contract, restructuring) pairs: the contracts running at the source on the move day."""
    if len(moves) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    event_of = np.full(int(etab.max(initial=0)) + 1, -1, dtype=np.int64)
    event_of[moves.src] = np.arange(len(moves))
    event = np.where(etab < len(event_of), event_of[np.minimum(etab, len(event_of) - 1)], -1)
    ok = event >= 0
    e = np.maximum(event, 0)
    # running on the move day, not already moved away by an employer transfer
    ok &= (start < moves.when[e]) & (end >= moves.when[e]) & (motif != "998")
    ok &= rng.random(len(etab)) < moves.share[e]
    c = np.flatnonzero(ok)
    return c, event[c]
