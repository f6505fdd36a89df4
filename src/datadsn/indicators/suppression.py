"""Which cell a row of a table is, whatever the table it appears in.

The same population appears in several tables of a period: a département is a row of the table
by département and of the cube by région × département, the national total is in every table.
A cell masked in one must be masked in all, so cells are named by what defines them: the
dimensions set to a category, less those a finer one implies (a département implies its
région). The national total is the empty name.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import polars as pl

from .compute import TOTAL
from .hierarchies import ancestors

NATIONAL = ""


@lru_cache(maxsize=65536)
def _implied(dim: str, value: str) -> tuple[tuple[str, str], ...]:
    return tuple(ancestors(dim, value).items())


def cell_id(dims: Sequence[str], values: Sequence[str | None]) -> str:
    """``dim=value`` pairs, sorted, joined by ``|``; implied ancestors left out."""
    named = {d: str(v) for d, v in zip(dims, values, strict=True) if v is not None and v != TOTAL}
    implied = {a for d, v in named.items() for a, av in _implied(d, v) if named.get(a) == av}
    return "|".join(f"{d}={named[d]}" for d in sorted(named) if d not in implied)


def cell_ids(cells: pl.DataFrame, dims: Sequence[str]) -> pl.Series:
    """:func:`cell_id` of every row of ``cells``."""
    rows = cells.select(list(dims)).iter_rows() if dims else ((),) * cells.height
    return pl.Series("cellule", [cell_id(dims, row) for row in rows], dtype=pl.Utf8)
