"""From a request to released files: compute, primary and secondary secrecy, write, chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import primary, release, secondary
from .catalogue import Indicator
from .charts import write_chart
from .compute import Session, compute_cells
from .rules import Rules


@dataclass
class Released:
    code: str
    path: Path
    chart: Path | None
    cells: int
    primary: int
    secondary: int


def protected_table(
    session: Session,
    indicator: Indicator,
    dims: list[str],
    start: str,
    end: str,
    period: str,
    rules: Rules,
) -> tuple[pl.DataFrame, list[str]]:
    """Cells with ``valeur``, ``masque_primaire`` and ``masque_secondaire`` (not yet released)."""
    if indicator.part_selon and indicator.part_selon not in dims:
        dims = [indicator.part_selon, *dims]
    cells = compute_cells(session, indicator, dims, start, end, period)
    cells = primary.apply(cells, rules)
    return secondary.apply(cells, dims, rules, indicator.counts), dims


def publish(
    session: Session,
    indicator: Indicator,
    dims: list[str],
    start: str,
    end: str,
    period: str,
    rules: Rules,
    out: Path,
    chart: bool = True,
) -> Released:
    cells, dims = protected_table(session, indicator, dims, start, end, period, rules)
    table = release.published_table(cells, indicator, dims)
    meta = release.metadata(
        indicator, dims, period, start, end, rules, table, str(session.store.root)
    )
    release.write(table, meta, out)
    svg = write_chart(out, indicator.titre, indicator.unite, table, dims) if chart else None
    return Released(
        indicator.code,
        out,
        svg,
        table.height,
        int(table["masque_primaire"].sum()),
        int(table["masque_secondaire"].sum()),
    )
