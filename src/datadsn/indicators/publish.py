"""From a request to released files: compute, primary and secondary secrecy, write, chart."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from . import primary, release, secondary, suppression
from .catalogue import Indicator
from .charts import write_chart
from .compute import TOTAL, Session, check_dims, compute_cells
from .hierarchies import protection_dims
from .rules import Rules


@dataclass
class Released:
    code: str
    path: Path
    chart: Path | None
    cells: int
    primary: int
    secondary: int


def joint_dims(indicator: Indicator, dims: list[str]) -> list[str]:
    """The dimensions of the cube a table of ``dims`` is computed and protected in (what to
    ask ``compute.precompute_cells`` for)."""
    return protection_dims(_with_part(indicator, dims), indicator.dimensions)


def _with_part(indicator: Indicator, dims: list[str]) -> list[str]:
    """A share's table always carries the dimension it is a share of."""
    if indicator.part_selon and indicator.part_selon not in dims:
        return [indicator.part_selon, *dims]
    return dims


def protected_cube(
    session: Session,
    indicator: Indicator,
    joint: list[str],
    start: str,
    end: str,
    period: str,
    rules: Rules,
    ledger: suppression.Ledger | None = None,
    scope: suppression.Scope | None = None,
    source: str = "",
) -> pl.DataFrame:
    """The cells of the cube ``joint`` (every level of its hierarchies crossed in), with
    ``valeur``, ``masque_primaire`` and ``masque_secondaire``; with a ``ledger``, also their
    ``population`` and ``cellule`` (computed on ``scope``'s population), and the cells it
    holds kept masked (those ``source``, this table, masked before only kept, not protected)."""
    cells = compute_cells(session, indicator, joint, start, end, period)
    if ledger is None:
        return protect_cells(cells, indicator, joint, rules)
    cells = suppression.identify(cells, joint, scope)
    forced, kept = ledger.forced(cells, indicator.code, source)
    return protect_cells(cells, indicator, joint, rules, forced, kept)


def protect_cells(
    cells: pl.DataFrame,
    indicator: Indicator,
    joint: list[str],
    rules: Rules,
    forced: pl.Series | None = None,
    kept: pl.Series | None = None,
) -> pl.DataFrame:
    """Primary then secondary secrecy on computed cells. ``forced`` and ``kept`` flag the cells
    that must stay masked whatever the rules say (``secondary.FORCED`` and ``KEPT``)."""
    cells = primary.apply(cells, rules, indicator.amounts)
    if forced is not None:
        cells = cells.with_columns(forced.alias(secondary.FORCED))
    if kept is not None:
        cells = cells.with_columns(kept.alias(secondary.KEPT))
    return secondary.apply(cells, joint, rules, indicator.counts).drop(
        secondary.FORCED, secondary.KEPT, strict=False
    )


def protected_table(
    session: Session,
    indicator: Indicator,
    dims: list[str],
    start: str,
    end: str,
    period: str,
    rules: Rules,
    ledger: suppression.Ledger | None = None,
    scope: suppression.Scope | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Cells with ``valeur``, ``masque_primaire`` and ``masque_secondaire`` (not yet released):
    the slice of the cube that crosses in the other levels of the dimensions' hierarchies,
    protected as one table (``hierarchies.py``), the ledger's cells kept masked (the table's
    name there: :func:`suppression.source`)."""
    dims = _with_part(indicator, dims)
    check_dims(indicator, dims)
    joint = joint_dims(indicator, dims)
    source = suppression.source(indicator.code, dims, start, end, period, scope)
    cells = protected_cube(
        session, indicator, joint, start, end, period, rules, ledger, scope, source
    )
    return slice_of(cells, joint, dims), dims


def slice_of(cells: pl.DataFrame, joint: list[str], dims: list[str]) -> pl.DataFrame:
    """The table of ``dims`` inside a cube of ``joint``: the other levels at their margin."""
    crossed = [d for d in joint if d not in dims]
    if crossed:
        cells = cells.filter(*[pl.col(d) == TOTAL for d in crossed]).drop(crossed)
    return cells


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
    ledger: suppression.Ledger | None = None,
) -> Released:
    """Protect (the ledger's cells kept masked), write, then record what is masked, the
    period's ledger held throughout."""
    with ledger.hold(start, end, period) if ledger is not None else nullcontext():
        cells, dims = protected_table(session, indicator, dims, start, end, period, rules, ledger)
        table = release.published_table(cells, indicator, dims)
        meta = release.metadata(
            indicator, dims, period, start, end, rules, table, str(session.store.root)
        )
        release.write(table, meta, out)
        if ledger is not None:
            source = suppression.source(indicator.code, dims, start, end, period)
            ledger.record(cells, indicator.code, source)
    svg = write_chart(out, indicator.titre, indicator.unite, table, dims) if chart else None
    return Released(
        indicator.code,
        out,
        svg,
        table.height,
        int(table["masque_primaire"].sum()),
        int(table["masque_secondaire"].sum()),
    )
