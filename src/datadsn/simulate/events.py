"""Planned declaration defects per contract and per person, drawn once before the month loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import referentials as ref
from .careers import Contracts, Persons
from .economy import NEVER, Economy
from .noise import NoiseProfile
from .restructure import MERGE, Restructurings


def month_index(days: np.ndarray, base: int) -> np.ndarray:
    """Months since the window's first month (base = that month as months since 1970-01)."""
    safe = np.minimum(days, 2_000_000)
    return safe.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - base


# Identity changes per person (Plan.person_kind), in the order of their draws.
PERSON_KINDS = {
    1: "identity_change_with_block",  # new name, declared with S21.G00.31
    2: "identity_change_without_block",  # new name, no block
    3: "fragmented_change",  # name and birth date changed in 2 blocks
    4: "nir_correction",  # wrong NIR first, then corrected (31.008)
    5: "nir_correction_without_block",  # wrong NIR first, corrected without the old NIR
    6: "several_fields_change",  # NIR, name and birth date changed in one block
    7: "name_change_without_nir",  # never a NIR; name change with a block
    8: "name_change_without_nir_without_block",  # never a NIR; name change, no block
}
NAMED = (1, 2, 3, 6, 7, 8)  # kinds whose old name differs
WRONG_NIR = (4, 5, 6)  # kinds declared first under a wrong NIR
NO_NIR = (7, 8)  # kinds never declared with a NIR
UNBLOCKED = (2, 5, 8)  # kinds never declared with a change block


@dataclass
class Plan:
    first_mi: np.ndarray  # first declared month of each contract
    last_mi: np.ndarray
    numchg_mi: np.ndarray  # month of the contract number change, -1 none
    numchg_silent: np.ndarray  # the number change carries no S21.G00.41.014
    transfer_silent: np.ndarray  # the transfer carries no S21.G00.41.012
    moved_kind: np.ndarray  # 0 employer change, else restructure.SPLIT / MERGE
    user_mi: np.ndarray  # interim: month from which the mission has its second user, -1 none
    second_user: np.ndarray  # interim: the user establishment from user_mi on
    rehired: np.ndarray  # the person is hired again later by the same establishment
    old_numero: np.ndarray
    datecorr_mi: np.ndarray  # month of the start-date correction, -1 none
    wrong_start: np.ndarray
    nir_absent_until: np.ndarray  # NIR omitted in months < this, -1 none
    forgot_end: np.ndarray
    cancel_mi: np.ndarray  # month of a wrongly declared end (cancelled with 099 next month)
    cancel_date: np.ndarray
    silent: np.ndarray  # per establishment: closes without end blocks
    person_kind: np.ndarray  # 0 none, then PERSON_KINDS
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
    moves: Restructurings,
    noise: NoiseProfile,
    w0: int,
    w1: int,
    base: int,
    n_months: int,
) -> Plan:
    n = len(con)
    # The hard cases draw from their own stream: the other profiles keep their exact output.
    extra = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])  # type: ignore[attr-defined]
    first = month_index(np.maximum(con.start, w0), base)
    last = month_index(np.minimum(con.end, w1), base)
    multi = last - first >= 1
    hired = (con.start >= w0) & (con.previous < 0)

    u = rng.random(n)
    numchg = multi & (u < noise.contract_number_change) & (con.previous < 0)
    silent = multi & (con.previous < 0) & ~numchg
    numchg_silent = silent & (extra.random(n) < noise.contract_number_change_without_block)
    numchg |= numchg_silent
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
    rehired = _rehired(con)
    forgot |= ended & rehired & (extra.random(n) < noise.forgotten_end_then_rehire)
    transfer_silent = (con.previous >= 0) & (extra.random(n) < noise.employer_change_without_block)
    moved = con.restructuring >= 0
    moved_kind = np.zeros(n, dtype=np.int64)
    if moved.any():
        transfer_silent = np.where(moved, moves.silent[con.restructuring], transfer_silent)
        moved_kind[moved] = moves.kind[con.restructuring[moved]]

    user_mi, second_user = _user_changes(extra, con, first, last, noise.interim_user_change)

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

    silent_closure = (eco.closed != NEVER) & (rng.random(eco.n_etab) < noise.silent_closure)
    silent_closure[moves.src[moves.kind == MERGE]] = False  # nothing ends at a merged site

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
    # the hard kinds, from their own draws, for persons without one of the above
    hard = np.cumsum(
        [
            noise.nir_correction_without_block,
            noise.several_fields_change,
            noise.name_change_without_nir,
            noise.name_change_without_nir_without_block,
        ]
    )
    extra_kind = np.searchsorted(hard, extra.random(m), side="right") + 5
    kind = np.where((kind == 0) & (extra_kind <= 8), extra_kind, kind)
    if n_months < 2:
        kind[:] = 0
    person_mi = 1 + (rng.random(m) * max(n_months - 1, 1)).astype(np.int64)
    # Old values only for the persons concerned (millions of persons otherwise).
    shift = 1 + rng.integers(0, len(ref.SURNAMES) - 1, m)
    surnames = np.sort(np.array(ref.SURNAMES, dtype=object))
    named = np.flatnonzero(np.isin(kind, NAMED))
    old_nom = np.full(m, None, dtype=object)
    idx = np.searchsorted(surnames, per.nom[named])
    old_nom[named] = surnames[(idx + shift[named]) % len(surnames)]
    old_ddn = per.birth + np.where(rng.random(m) < 0.5, -1, 1) * rng.integers(1, 40, m)
    fixed = np.flatnonzero(np.isin(kind, WRONG_NIR))
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
        numchg_silent=numchg_silent,
        transfer_silent=transfer_silent,
        moved_kind=moved_kind,
        user_mi=user_mi,
        second_user=second_user,
        rehired=rehired,
        old_numero=old_numero,
        datecorr_mi=datecorr_mi,
        wrong_start=wrong_start,
        nir_absent_until=nir_absent_until,
        forgot_end=forgot,
        cancel_mi=cancel_mi,
        cancel_date=cancel_date,
        silent=silent_closure,
        person_kind=kind,
        person_mi=person_mi,
        old_nom=old_nom,
        old_ddn=old_ddn,
        wrong_nir=wrong_nir,
        done31=np.zeros(n, dtype=bool),
        seen_old=np.zeros(m, dtype=bool),
        person_done=np.zeros(m, dtype=bool),
    )


def _user_changes(
    rng: np.random.Generator, con: Contracts, first: np.ndarray, last: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Missions that go on in another user establishment from a month after their first."""
    n = len(con)
    users = np.unique(con.user_etab[con.user_etab >= 0])
    # from the third month of the mission: with a pay period from the 16th, a mission started
    # late in its first month is first declared the next month
    change = (con.user_etab >= 0) & (last - first >= 2) & (rng.random(n) < rate)
    if len(users) < 2:
        change[:] = False
    user_mi = np.where(
        change, first + 2 + (rng.random(n) * (last - first - 1)).astype(np.int64), -1
    )
    user_mi = np.minimum(user_mi, last)
    # another user: the next one in the list of user establishments, shifted at random
    at = np.searchsorted(users, con.user_etab)
    shift = 1 + (rng.random(n) * max(len(users) - 1, 1)).astype(np.int64)
    other = users[(at + shift) % max(len(users), 1)] if len(users) else con.user_etab
    return user_mi, np.where(change, other, -1)


def _rehired(con: Contracts) -> np.ndarray:
    """Contracts whose person starts another contract later at the same establishment."""
    order = np.lexsort((con.start, con.etab, con.person))
    same = (con.person[order][1:] == con.person[order][:-1]) & (
        con.etab[order][1:] == con.etab[order][:-1]
    )
    later = np.zeros(len(con), dtype=bool)
    later[order[:-1]] = same & (con.start[order][1:] > con.end[order][:-1])
    return later
