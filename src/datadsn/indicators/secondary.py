"""Secondary (complementary) suppression for tables with margins, checked by linear programming.

Method: the published table of one period is the set of cells of every subset of the requested
dimensions (``Ensemble`` = margin); each margin equals the sum of its children along one
dimension. An attacker who knows the published cells solves these equations with non-negative
unknowns: the feasible interval of a masked cell is [min, max] of two linear programs (HiGHS,
``lp.Bounds``). A primary cell is protected when that interval is at least
``Rules.protection(value)`` wide.

Algorithm (hypercube-style heuristic with an exact LP audit as the stopping rule):
1. no equation may hold a single masked cell: add the cheapest published cell of that equation
   (smallest value, inner cells before margins);
2. audit every primary cell not yet protected; for each failure, add in one of its equations the
   cheapest published cell whose value covers the protection level;
3. repeat until every primary cell is protected. Masking more only widens intervals, so a cell
   once protected stays protected and the loop ends (at worst with the whole table masked).
The result is safe by construction (the audit is the attack); it is not optimal in the number of
masked cells, which an OPT-type MIP (τ-Argus) would minimise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import lp
from .compute import TOTAL
from .rules import Rules

# Optional columns of cells to keep masked whatever the rules say, released as secondary ones:
# masked in another table of the period (protected like primary cells: otherwise this table
# could give them away), or in an earlier run of this very table (only kept masked, so that
# running a table again gives the same cells).
FORCED = "masque_force"
KEPT = "masque_garde"


@dataclass
class Table:
    """One period: cell values and the additivity equations (margin index, children indexes)."""

    values: np.ndarray
    keys: list[tuple[str, ...]]
    equations: list[tuple[int, list[int]]]


def build_table(keys: list[tuple[str, ...]], values: list[float]) -> Table:
    index = {k: i for i, k in enumerate(keys)}
    equations: list[tuple[int, list[int]]] = []
    ndim = len(keys[0]) if keys else 0
    children: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for i, key in enumerate(keys):
        for d in range(ndim):
            if key[d] != TOTAL:
                parent = (*key[:d], TOTAL, *key[d + 1 :])
                children.setdefault((d, parent), []).append(i)
    for (_, parent), kids in children.items():
        if parent in index:
            equations.append((index[parent], kids))
    return Table(np.asarray(values, dtype=float), keys, equations)


def bounds(table: Table, masked: np.ndarray) -> lp.Bounds:
    """The attacker's [min, max] of every masked cell of ``table`` (one model per component)."""
    return lp.Bounds(table.values, table.equations, masked)


def protected(solved: lp.Bounds, cell: int, need: float) -> bool:
    """Interval at least ``need`` wide; the upper side alone often settles it (one LP)."""
    hi = solved.bound(cell, upper=True)
    if hi - solved.values[cell] >= need - 1e-9:  # False for NaN: not protected
        return True
    return bool(hi - solved.bound(cell, upper=False) >= need - 1e-9)


def _cost(table: Table, cell: int) -> tuple[int, float]:
    margins = sum(1 for part in table.keys[cell] if part == TOTAL)
    return margins, float(table.values[cell])


def _cheapest(table: Table, masked: np.ndarray, members: list[int], need: float) -> int | None:
    free = [m for m in members if not masked[m]]
    if not free:
        return None
    covering = [m for m in free if table.values[m] >= need]
    return min(covering or free, key=lambda m: _cost(table, m))


def protect(
    table: Table,
    primary: np.ndarray,
    rules: Rules,
    counts: bool = True,
    kept: np.ndarray | None = None,
) -> np.ndarray:
    """Masked cells (primary + complementary) so that every primary cell is protected; the
    ``kept`` cells are masked from the start (not protected for themselves)."""
    masked = primary | kept if kept is not None else primary.copy()
    pending = set(np.flatnonzero(primary).tolist())
    groups = [[parent, *kids] for parent, kids in table.equations]
    for _ in range(len(table.keys) + 1):
        changed = True
        while changed:
            changed = False
            for members in groups:
                if sum(1 for m in members if masked[m]) == 1:
                    pick = _cheapest(table, masked, members, 0.0)
                    if pick is not None:
                        masked[pick] = True
                        changed = True
        failing = []
        solved = bounds(table, masked)
        for cell in sorted(pending):
            if protected(solved, cell, rules.protection(table.values[cell], counts)):
                pending.discard(cell)
            else:
                failing.append(cell)
        if not failing:
            return masked
        added = False
        for cell in failing:
            need = rules.protection(table.values[cell], counts)
            for members in groups:
                if cell in members:
                    pick = _cheapest(table, masked, members, need)
                    if pick is not None:
                        masked[pick] = True
                        added = True
                        break
        if not added:
            break
    return masked


def apply(cells: pl.DataFrame, dims: list[str], rules: Rules, counts: bool = True) -> pl.DataFrame:
    """Add ``masque_secondaire`` per period, on the additive quantity (the numerator)."""
    flags = np.zeros(cells.height, dtype=bool)
    if dims:
        offset_rows = cells.with_row_index("_i")
        for _, part in offset_rows.group_by("periode", maintain_order=True):
            idx = part["_i"].to_numpy()
            keys = [tuple(row) for row in part.select(dims).iter_rows()]
            table = build_table(keys, part["num"].to_list())
            primary = part["masque_primaire"].to_numpy().astype(bool)
            protect_too = primary.copy()
            if FORCED in part.columns:
                protect_too |= part[FORCED].to_numpy().astype(bool)
            kept = part[KEPT].to_numpy().astype(bool) if KEPT in part.columns else None
            if protect_too.any() or (kept is not None and kept.any()):
                masked = protect(table, protect_too, rules, counts, kept)
                flags[idx] = masked & ~primary
    return cells.with_columns(pl.Series("masque_secondaire", flags))
