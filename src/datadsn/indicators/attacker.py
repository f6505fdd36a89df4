"""The audit as an attacker: everything a recipient holds, solved together.

A recipient holds the public releases and every table delivered to them; recipients may also
pool what they hold (``--toutes``). Each cell of every table is named by its population and
its categories (``suppression.identify``: a flow on one région by NAF section gives the public
cells of that région), so that tables of different files, scopes and levels of a hierarchy meet
on the cells they share. Per indicator, period type, period and population, the attacker writes
the additivity equations each table gives (a table's margin is the sum of its rows along the
dimensions it breaks down, e.g. a région's total the sum of its départements in the table by
département) and solves the min/max linear programme of every masked primary cell
(``secondary.bounds``). A cell bracketed narrower than its protection interval,
``Rules.protection`` of the interval's upper bound (the attacker does not know the value), is
named.

Indicators that count the same quantity (``catalogue.measure``: EFF_FIN and PYRAMIDE_AGES count
the same postes) are one system: their tables meet on the cells they share.

What it does not cover: ratios (not additive), other relations between indicators (EFF_MOY
against EFF_FIN, ETP against hours), populations that are neither everyone nor one category of
a dimension (a list of companies: only its own tables are solved together), and what a
recipient knows from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import release, secondary, suppression
from .catalogue import measure
from .compute import TOTAL
from .hierarchies import HIERARCHIES, ancestors, hierarchy_of
from .rules import Rules


@dataclass
class Holding:
    """One additive table someone holds: ``periode``, its dimensions, ``valeur``, ``statut``."""

    name: str
    indicator: str
    period_type: str
    rules: Rules
    dims: list[str]
    table: pl.DataFrame
    scope: Mapping[str, Sequence[str]] = field(default_factory=dict)


def file_holding(path: Path, scope: Mapping[str, Sequence[str]] | None = None) -> Holding | None:
    """A released file (``release.py`` format), None when its values do not add up."""
    table, meta = release.read(path)
    if not meta.get("additif"):
        return None
    dims = list(meta["dimensions"])
    return Holding(
        path.name, meta["indicateur"], meta["periode"], Rules.from_dict(meta["regles"]), dims,
        table.select("periode", *dims, "valeur", "statut"), dict(scope or {}),
    )  # fmt: skip


def _rules(holdings: Iterable[Holding]) -> Rules:
    """The most demanding protection interval of the tables solved together."""
    items = list(holdings)
    return Rules(
        protection_pct=max(h.rules.protection_pct for h in items),
        protection_min=max(h.rules.protection_min for h in items),
    )


def _named(cell: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in cell.split("|")) if cell else {}


def _union_dims(cells: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(d for cell in cells for d in _named(cell)))
    nested = [d for levels in HIERARCHIES.values() for d in levels if d in seen]
    return nested + [d for d in seen if d not in nested]


def _parent(
    key: tuple[str, ...], dims: list[str], at: int, present: Mapping[tuple[str, ...], int]
) -> tuple[str, ...]:
    """The margin of ``key`` along ``dims[at]``: that level at its total, and the coarser levels
    of its hierarchy too while no table holds the margin (a table by département alone sums
    into the national total when no table by région is held)."""
    parent = list(key)
    parent[at] = TOTAL
    name = hierarchy_of(dims[at])
    coarser = HIERARCHIES[name][: HIERARCHIES[name].index(dims[at])] if name else ()
    for level in reversed(coarser):
        if tuple(parent) in present:
            break
        if level in dims:
            parent[dims.index(level)] = TOTAL
    return tuple(parent)


def attack(
    holdings: list[Holding],
    indicators: set[str] | None = None,
    periods: set[str] | None = None,
) -> list[str]:
    """The masked primary cells pinned narrower than their protection interval (French lines),
    over ``holdings`` solved together; only ``indicators`` and ``periods`` when given."""
    # Indicators counting the same quantity (EFF_FIN and PYRAMIDE_AGES) are solved as one.
    wanted = None if indicators is None else {measure(code) for code in indicators}
    groups: dict[tuple[str, str], list[Holding]] = {}
    for h in holdings:
        if wanted is None or measure(h.indicator) in wanted:
            groups.setdefault((measure(h.indicator), h.period_type), []).append(h)
    problems = []
    for (code, _), members in sorted(groups.items(), key=lambda g: g[0]):
        rows = []
        for i, h in enumerate(members):
            table = h.table.with_columns(pl.col("periode").cast(pl.Utf8))
            if periods is not None:
                table = table.filter(pl.col("periode").is_in(sorted(periods)))
            if table.is_empty():
                continue
            named = suppression.identify(table, h.dims, h.scope)
            rows.append(
                named.select(
                    "periode",
                    "population",
                    "cellule",
                    pl.col("valeur").cast(pl.Utf8),
                    "statut",
                    pl.lit(i).alias("source"),
                )
            )
        if not rows:
            continue
        cells = pl.concat(rows)
        rules = _rules(members)
        for (period, population), part in sorted(
            cells.group_by("periode", "population"), key=lambda g: (str(g[0][0]), str(g[0][1]))
        ):
            for cell, lo, hi in _pinned(part, members, rules):
                where = cell.replace("|", ", ") or "ensemble"
                if population:
                    where += f" ; population {population}"
                problems.append(
                    f"{code} {period} ({where}) : case masquée encadrée dans [{lo:g} ; {hi:g}] "
                    f"par l'ensemble des fichiers ({len(members)} tableaux)"
                )
    return problems


def _pinned(
    part: pl.DataFrame, members: list[Holding], rules: Rules
) -> list[tuple[str, float, float]]:
    names = sorted(set(part["cellule"]))
    dims = _union_dims(names)
    keys: list[tuple[str, ...]] = []
    for name in names:
        full = dict.fromkeys(dims, TOTAL)
        for dim, v in _named(name).items():
            full[dim] = v
            full.update({a: av for a, av in ancestors(dim, v).items() if a in full})
        keys.append(tuple(full[d] for d in dims))
    index = {name: i for i, name in enumerate(names)}
    by_key = {k: i for i, k in enumerate(keys)}
    values = np.zeros(len(names))
    known = np.zeros(len(names), dtype=bool)
    primary = np.zeros(len(names), dtype=bool)
    for name, value, status in part.select("cellule", "valeur", "statut").iter_rows():
        at = index[name]
        if status == "publie" and value not in (None, ""):
            values[at], known[at] = float(value), True
        primary[at] |= status == "masque_primaire"
    # A table's margin is the sum of its rows along each dimension it breaks down.
    children: dict[tuple[int, int, tuple[str, ...]], list[int]] = {}
    for source, name in part.select("source", "cellule").unique().iter_rows():
        key = keys[index[name]]
        for at, dim in enumerate(dims):
            if dim in members[source].dims and key[at] != TOTAL:
                parent = _parent(key, dims, at, by_key)
                children.setdefault((source, at, parent), []).append(index[name])
    equations = {
        (by_key[parent], tuple(sorted(kids)))
        for (_, _, parent), kids in children.items()
        if parent in by_key
    }
    model = secondary.Table(values, keys, [(p, list(k)) for p, k in sorted(equations)])
    masked = ~known
    out = []
    solved = secondary.bounds(model, masked)
    for i in np.flatnonzero(masked & primary):
        lo, hi = solved.interval(int(i))
        if np.isnan(lo) or np.isnan(hi) or hi - lo >= rules.protection(hi) - 1e-9:
            continue
        out.append((names[i], lo, hi))
    return out
