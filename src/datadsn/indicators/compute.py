"""Run the indicator SQL steps on the quality snapshot and aggregate cells with their margins.

The warehouse catalogue is attached read-only to an in-memory DuckDB; the steps (base layer,
then one step per indicator) are materialised there by the engine's runner. Aggregation is one
generated query (GROUPING SETS, portable to Spark) giving, per cell, the numerator and
denominator sums and what the disclosure rules need: distinct employees, contributing
establishments and the largest establishment contribution.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from datadsn import months
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.runner import Step, check_portable, run_step
from datadsn.engine.warehouse import Warehouse

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
# Built month by month: a month's joins need a small fraction of the memory of the whole
# window's (one million employees over 24 months: 9.5 GB at peak instead of 13 GB), and on a
# machine where fresh memory costs about a second per GB that is most of the base layer's time.
MONTHLY_STEPS = ("ind_base",)
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
    """An in-memory DuckDB over the warehouse's current quality snapshot."""

    def __init__(self, store: Warehouse, threads: int | None = None):
        if not store.catalog.exists():
            raise IndicatorError(
                f"aucun catalogue dans {store.root} : lancez `datadsn consolidate` d'abord"
            )
        self.store = store
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # Every query that returns rows orders them: tables need not keep insertion order.
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        path = str(store.catalog).replace("'", "''")
        self.con.execute(f"ATTACH '{path}' AS entrepot (READ_ONLY)")
        present = {
            (schema, name)
            for schema, name in self.con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = 'entrepot'"
            ).fetchall()
        }
        missing = [t for t in QUALITY_TABLES if ("main", t) not in present]
        if missing:
            raise IndicatorError(
                f"tables de qualité absentes ({', '.join(missing)}) : lancez `datadsn consolidate`"
            )
        for table in QUALITY_TABLES:
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM entrepot.main.{table}")
        if ("raw", "lieu_travail") in present:
            self.con.execute(
                "CREATE VIEW ind_lieux_travail AS SELECT identifiant_lieu_travail AS siret, "
                "code_insee_commune AS code_commune, mois_declaration, fichier, ligne "
                "FROM entrepot.raw.lieu_travail"
            )
        else:
            self.con.execute(
                "CREATE VIEW ind_lieux_travail AS SELECT CAST(NULL AS VARCHAR) AS siret, "
                "CAST(NULL AS VARCHAR) AS code_commune, CAST(NULL AS VARCHAR) AS mois_declaration,"
                " CAST(NULL AS VARCHAR) AS fichier, CAST(NULL AS INTEGER) AS ligne WHERE false"
            )
        references.register(self.con)
        self.window: tuple[str, str, str] | None = None
        # Cells computed ahead by ``precompute_cells``, per indicator code and dimensions.
        self.ready: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}

    def prepare(self, start: str, end: str, period: str) -> None:
        """Materialise the base layer for a window and a period type."""
        if period not in PERIODS:
            raise IndicatorError(f"période inconnue : {period} (mois, trimestre ou annee)")
        if self.window == (start, end, period):
            return
        self.ready.clear()
        months = months_between(start, end)
        last = self.con.execute("SELECT max(mois) FROM contrats_mois").fetchone()
        if not last or last[0] is None:
            raise IndicatorError("la base de qualité ne contient aucun mois déclaré")
        if months[-1] > last[0]:
            raise IndicatorError(
                f"{end} est au-delà du dernier mois consolidé ({last[0]:%Y-%m}) : les contrats "
                "ouverts y seraient comptés sans déclaration"
            )
        self.con.register("ind_mois_arrow", _month_table(months, period))
        self.con.execute("CREATE OR REPLACE TABLE ind_mois AS SELECT * FROM ind_mois_arrow")
        self.con.unregister("ind_mois_arrow")
        for name in BASE_STEPS:
            step = Step(name=name, layer="base", path=SQL / "base" / f"{name}.sql")
            if name in BASE_VIEWS:
                body = step.sql.strip().rstrip(";")
                self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")
            elif name in MONTHLY_STEPS:
                self._by_month(step, months)
            else:
                run_step(DuckDBBackend(self.con), step)
        # Every dimension on each poste-mois, for extracts and scoped sessions.
        every = batch.with_establishment("ind_base", [f"d_{d}" for d in ESTABLISHMENT_DIMS])
        self.con.execute(f"CREATE OR REPLACE VIEW ind_base_dims AS SELECT * FROM {every} AS b")
        self.window = (start, end, period)

    def _by_month(self, step: Step, months: list[date]) -> None:
        """Materialise ``step`` one month of the window at a time, ``ind_mois`` holding only
        that month's row, then put the whole window back in ``ind_mois``."""
        self.con.execute("CREATE OR REPLACE TABLE ind_fenetre AS SELECT * FROM ind_mois")
        try:
            for i, month in enumerate(months):
                # Recreated rather than emptied: its statistics then say one row, and DuckDB
                # pairs it with the contracts by a nested loop instead of sorting them each time.
                self.con.execute(
                    "CREATE OR REPLACE TABLE ind_mois AS SELECT * FROM ind_fenetre WHERE mois = ?",
                    [month],
                )
                run_step(DuckDBBackend(self.con), step, append=i > 0)
        finally:
            self.con.execute("CREATE OR REPLACE TABLE ind_mois AS SELECT * FROM ind_fenetre")
            self.con.execute("DROP TABLE ind_fenetre")

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
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {body}")
        sql = aggregation_sql(name, dims, indicator)
        return self.con.execute(sql).pl()

    def close(self) -> None:
        self.con.close()


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
        wide = session.con.execute(batch.batch_sql(items, dims, TOTAL)).pl()
        codes = [ind.code for ind, _ in found]
        for code, frame in batch.split(wide, codes, dims).items():
            session.ready[(code, dims_key)] = frame


def open_session(warehouse: Path | None, threads: int | None = None) -> Session:
    return Session(Warehouse.at(warehouse), threads=threads)
