"""Run the indicator SQL steps on the quality snapshot and aggregate cells with their margins.

The current snapshot's files are views of an engine's session (DuckDB by default, or Spark);
the steps (base layer, then one step per indicator) are materialised there by the engine's
runner. Aggregation is one generated query (GROUPING SETS, portable to Spark) giving, per cell,
the numerator and denominator sums and what the disclosure rules need: distinct employees,
contributing establishments and the largest establishment contribution. The disclosure control
then works in Python on these cells, the same for both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl
import pyarrow as pa

from datadsn import months
from datadsn.engine import backends
from datadsn.engine.backends import Backend
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.runner import Step, check_portable, run_step
from datadsn.engine.warehouse import Warehouse
from datadsn.quality.history import table_sql
from datadsn.quality.snapshot import current_month, snapshot_dir

from . import batch, references
from .catalogue import DIMENSIONS, ESTABLISHMENT_DIMS, PERIODS, SQL, Indicator

TOTAL = "Ensemble"
BASE_STEPS = (
    "ind_etablissements",
    "ind_postes",
    "ind_tailles",
    "ind_multiples",
    "ind_dims_etablissement",
    "ind_base",
)
# Read by the steps after it but never by indicators: a view saves materialising it.
BASE_VIEWS = ("ind_postes",)
# Built month by month on DuckDB (Spark: the whole window, see ``prepare``): a month's joins need
# a small fraction of the memory of the whole window's (one million employees over 24 months:
# 9.5 GB at peak instead of 13 GB), and on a machine where fresh memory costs about a second per
# GB that is most of the base layer's time.
MONTHLY_STEPS = ("ind_base",)
# Significant digits the cells' sums are rounded to (see ``settled``).
SUM_DIGITS = 10
QUALITY_TABLES = ("contrats", "contrats_mois", "activites", "salaries", "etablissements")
_WEIGHT = {"somme": "1.0", "moyenne": "poids_moyenne", "fin": "CAST(dernier_mois AS DOUBLE)"}


class IndicatorError(ValueError):
    """A request the catalogue cannot answer (message in French)."""


def parse_month(text: str) -> date:
    return months.to_date(months.parse(text, IndicatorError))


def months_between(start: str, end: str) -> list[date]:
    first, last = months.parse(start, IndicatorError), months.parse(end, IndicatorError)
    if last < first:
        raise IndicatorError(f"période vide : {start} est après {end}")
    return [months.to_date(m) for m in months.between(first, last)]


def period_of(month: date, period: str) -> str:
    if period == "mois":
        return f"{month.year}-{month.month:02d}"
    if period == "trimestre":
        return f"{month.year}-T{(month.month - 1) // 3 + 1}"
    return str(month.year)


def _month_table(firsts: list[date], period: str) -> pa.Table:
    labels = [period_of(m, period) for m in firsts]
    counts = {label: labels.count(label) for label in labels}
    last = {label: max(m for m, lab in zip(firsts, labels, strict=True) if lab == label)
            for label in counts}  # fmt: skip
    ends = []
    for m in firsts:
        nxt = months.to_date(months.next_month(months.of_date(m)))
        ends.append(date.fromordinal(nxt.toordinal() - 1))
    return pa.table(
        {
            "mois": firsts,
            "fin_mois": ends,
            "jours": [e.day for e in ends],
            "periode": labels,
            "poids_moyenne": [1.0 / counts[lab] for lab in labels],
            "dernier_mois": [
                1 if m == last[lab] else 0 for m, lab in zip(firsts, labels, strict=True)
            ],
        }
    )


class Session:
    """The indicator steps over the warehouse's current quality snapshot, on an engine.

    The snapshot's files (and the raw work places) are read through views the session defines,
    on DuckDB (a database of its own, the default) or on Spark (``engine``, ``master``)."""

    def __init__(
        self,
        store: Warehouse,
        threads: int | None = None,
        engine: str | None = None,
        master: str | None = None,
    ):
        current = current_month(store)
        if current is None:
            raise IndicatorError(
                f"aucun instantané de qualité dans {store.root} : lancez `datadsn consolidate` "
                "d'abord"
            )
        folder = snapshot_dir(store, current)
        inputs = {table: table_sql(folder, table) for table in QUALITY_TABLES}
        missing = [table for table, sql in inputs.items() if sql is None]
        if missing:
            raise IndicatorError(
                f"tables de qualité absentes ({', '.join(missing)}) : lancez `datadsn consolidate`"
            )
        self.store = store
        self._stack = ExitStack()
        self.backend: Backend = self._stack.enter_context(
            backends.session(engine, threads=threads, master=master, own=True)
        )
        try:
            for table, sql in inputs.items():
                self.backend.create(table, str(sql), kind="view")
            scan = store.scan_sql("lieu_travail")
            lieux = (
                f"SELECT identifiant_lieu_travail AS siret, code_insee_commune AS code_commune, "
                f"mois_declaration, fichier, ligne FROM {scan}"
                if scan
                else "SELECT CAST(NULL AS VARCHAR) AS siret, CAST(NULL AS VARCHAR) AS "
                "code_commune, CAST(NULL AS VARCHAR) AS mois_declaration, CAST(NULL AS VARCHAR) "
                "AS fichier, CAST(NULL AS INTEGER) AS ligne WHERE false"
            )
            self.backend.create("ind_lieux_travail", lieux, kind="view")
            references.register(self.backend)
        except BaseException:
            self._stack.close()
            raise
        self.window: tuple[str, str, str] | None = None
        # Cells computed ahead by ``precompute_cells``, per indicator code and dimensions.
        self.ready: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (DuckDB sessions only): for tests and probes."""
        if not isinstance(self.backend, DuckDBBackend):
            raise TypeError("a Spark session has no DuckDB connection")
        return self.backend.con

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        """A query's rows as a Polars frame, whatever the engine."""
        return cast(pl.DataFrame, pl.from_arrow(self.backend.to_arrow(sql, params)))

    def prepare(self, start: str, end: str, period: str) -> None:
        """Materialise the base layer for a window and a period type."""
        if period not in PERIODS:
            raise IndicatorError(f"période inconnue : {period} (mois, trimestre ou annee)")
        if self.window == (start, end, period):
            return
        self.ready.clear()
        months = months_between(start, end)
        last = self.backend.rows("SELECT max(mois) FROM contrats_mois")
        if not last or last[0][0] is None:
            raise IndicatorError("la base de qualité ne contient aucun mois déclaré")
        if months[-1] > last[0][0]:
            raise IndicatorError(
                f"{end} est au-delà du dernier mois consolidé ({last[0][0]:%Y-%m}) : les "
                "contrats ouverts y seraient comptés sans déclaration"
            )
        self.backend.from_arrow("ind_mois", _month_table(months, period))
        for name in BASE_STEPS:
            step = Step(name=name, layer="base", path=SQL / "base" / f"{name}.sql")
            if name in BASE_VIEWS:
                run_step(self.backend, step, view=True)
            elif name in MONTHLY_STEPS and self.backend.engine == "duckdb":
                self._by_month(step, months)
            else:
                # Spark spreads the whole window over its executors: a month at a time would
                # copy the table built so far at each month (a union checkpointed anew).
                run_step(self.backend, step)
        self.restrict_base()
        # Every dimension on each poste-mois, for extracts and scoped sessions.
        every = batch.with_establishment("ind_base", [f"d_{d}" for d in ESTABLISHMENT_DIMS])
        self.backend.create("ind_base_dims", f"SELECT * FROM {every} AS b", kind="view")
        self.window = (start, end, period)

    def restrict_base(self) -> None:
        """Narrow ``ind_base`` to a population (a flow's): nothing here. Called before the
        views over ``ind_base`` are defined: a Spark view keeps the table it was defined on."""

    def _by_month(self, step: Step, months: list[date]) -> None:
        """Materialise ``step`` one month of the window at a time, ``ind_mois`` holding only
        that month's row, then put the whole window back in ``ind_mois``."""
        self.backend.create("ind_fenetre", "SELECT * FROM ind_mois")
        try:
            for i, month in enumerate(months):
                # Recreated rather than emptied: its statistics then say one row, and DuckDB
                # pairs it with the contracts by a nested loop instead of sorting them each time.
                self.backend.create(
                    "ind_mois", "SELECT * FROM ind_fenetre WHERE mois = ?", params=[month]
                )
                run_step(self.backend, step, append=i > 0)
        finally:
            self.backend.create("ind_mois", "SELECT * FROM ind_fenetre")
            self.backend.drop("ind_fenetre")

    def cells(self, indicator: Indicator, dims: list[str]) -> pl.DataFrame:
        """One row per period and cell (margins included, ``Ensemble``)."""
        check_dims(indicator, dims, MAX_CUBE_DIMS)
        ahead = self.ready.pop((indicator.code, tuple(dims)), None)
        if ahead is not None:
            return ahead
        name = f"ind_{indicator.code.lower()}"
        problems = check_portable(indicator.sql)
        if problems:
            raise IndicatorError(f"{name} : SQL non portable ({', '.join(problems)})")
        # A view, not a table: the aggregation reads a handful of the base's columns once.
        body = indicator.sql.strip().rstrip(";")
        self.backend.create(name, body, kind="view")
        return settled(self.frame(aggregation_sql(name, dims, indicator)))

    def close(self) -> None:
        self._stack.close()


def settled(cells: pl.DataFrame) -> pl.DataFrame:
    """Cells with their floating sums rounded to ``SUM_DIGITS`` significant digits: the last
    bits of a sum of doubles depend on the order of the additions, which differs between
    engines (and between DuckDB's thread counts); rounded, the same data gives the same cells
    and so the same masks. Relative, not to a fixed decimal: a ratio of two small sums (a
    share of temporary work) keeps its precision, a national sum is not held to more digits
    than a double carries."""
    floats = [c for c, t in cells.schema.items() if t.is_float()]
    return cells.with_columns(pl.col(floats).round_sig_figs(SUM_DIGITS)) if floats else cells


MAX_DIMS = 4  # a table asked for
MAX_CUBE_DIMS = 7  # ... and the levels of its hierarchies crossed in to protect it


def check_dims(indicator: Indicator, dims: list[str], limit: int = MAX_DIMS) -> None:
    for dim in dims:
        if dim not in DIMENSIONS:
            raise IndicatorError(f"dimension inconnue : {dim}")
        if dim not in indicator.dimensions:
            raise IndicatorError(
                f"la dimension {dim} n'est pas prévue pour {indicator.code} "
                f"(possibles : {', '.join(indicator.dimensions)})"
            )
    if len(set(dims)) != len(dims):
        raise IndicatorError("dimension répétée")
    if len(dims) > limit:
        raise IndicatorError(f"au plus {limit} dimensions par tableau")


def aggregation_sql(source: str, dims: list[str], indicator: Indicator) -> str:
    """Cells for every subset of ``dims`` (margins), per period; portable SQL.

    ``source`` is the indicator's step (``numerateur``, ``denominateur`` per row): the batch
    query of one indicator over it, with the cell columns under their plain names.
    """
    found = batch.parts(indicator.sql)
    # A NULL denominator is 0 in every row: not carried through the sums (see batch_sql).
    has_den = found is None or found.denominateur.upper() not in batch.NULLS
    item = batch.Parts("numerateur", "denominateur" if has_den else "NULL", "TRUE")
    weights = _WEIGHT[indicator.agregation], _WEIGHT[indicator.agregation_denominateur or "somme"]
    wide = batch.batch_sql([(item, *weights)], dims, TOTAL, source=source)
    cells = ", ".join(f"{c}_0 AS {c}" for c in batch.CELL_COLUMNS)
    keys = ", ".join(["periode", *dims])
    return f"SELECT {keys}, {cells} FROM ({wide}) AS w ORDER BY {keys}\n"


def value_column(cells: pl.DataFrame, indicator: Indicator, dims: list[str]) -> pl.DataFrame:
    """Add ``valeur`` from the sums (ratio, share of the margin, or the numerator)."""
    if indicator.part_selon:
        others = ["periode", *[d for d in dims if d != indicator.part_selon]]
        margin = cells.filter(pl.col(indicator.part_selon) == TOTAL).select(
            *others, pl.col("num").alias("_marge")
        )
        out = cells.join(margin, on=others, how="left")
        out = out.with_columns(
            (pl.col("num") / pl.col("_marge") * indicator.echelle).alias("valeur")
        ).drop("_marge")
        return out
    if indicator.agregation_denominateur:
        return cells.with_columns(
            pl.when(pl.col("den") != 0)
            .then(pl.col("num") / pl.col("den") * indicator.echelle)
            .otherwise(None)
            .alias("valeur")
        )
    return cells.with_columns((pl.col("num") * indicator.echelle).alias("valeur"))


def compute_cells(
    session: Session, indicator: Indicator, dims: list[str], start: str, end: str, period: str
) -> pl.DataFrame:
    if indicator.part_selon and indicator.part_selon not in dims:
        dims = [indicator.part_selon, *dims]
    if period not in indicator.periodicite:
        raise IndicatorError(f"périodicité {period} non prévue pour {indicator.code}")
    session.prepare(start, end, period)
    return value_column(session.cells(indicator, dims), indicator, dims)


def precompute_cells(
    session: Session,
    requests: list[tuple[Indicator, list[str]]],
    start: str,
    end: str,
    period: str,
) -> None:
    """Aggregate ahead, in one read of ``ind_base`` per dimension list, the requests that share
    it; ``compute_cells`` then takes their cells from the session. Others are left alone."""
    session.prepare(start, end, period)
    groups: dict[tuple[str, ...], list[Indicator]] = {}
    for indicator, dims in requests:
        if indicator.part_selon and indicator.part_selon not in dims:
            dims = [indicator.part_selon, *dims]
        try:
            check_dims(indicator, dims, MAX_CUBE_DIMS)
        except IndicatorError:
            continue  # left to compute_cells, which reports it in its turn
        if period not in indicator.periodicite or check_portable(indicator.sql):
            continue
        groups.setdefault(tuple(dims), []).append(indicator)
    for dims_key, indicators in groups.items():
        found = batch.plan(indicators)
        if len(found) < 2:
            continue
        items = [
            (p, _WEIGHT[ind.agregation], _WEIGHT[ind.agregation_denominateur or "somme"])
            for ind, p in found
        ]
        dims = list(dims_key)
        wide = settled(session.frame(batch.batch_sql(items, dims, TOTAL)))
        codes = [ind.code for ind, _ in found]
        for code, frame in batch.split(wide, codes, dims).items():
            session.ready[(code, dims_key)] = frame


def open_session(
    warehouse: Path | None,
    threads: int | None = None,
    engine: str | None = None,
    master: str | None = None,
) -> Session:
    return Session(Warehouse.at(warehouse), threads=threads, engine=engine, master=master)
