"""The warehouse on disk: Parquet files partitioned by declared month, and a DuckDB catalogue.

Layout (see ARCHITECTURE.md)::

    <home>/warehouse/
      raw/<table>/mois_declaration=YYYY-MM/<lot>-<version>-<part>.parquet
      rejections/<lot>-<version>-<part>.parquet
      fichiers/<lot>-<version>-<part>.parquet   one row per input file (size, encoding, lines)
      lots/<lot>.json                           manifest: the version served, the run's summary
      catalog.duckdb                            views raw.<table>, raw.rejections over the files

Only the files of the version each manifest names are read (see ``lots.py``).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from datadsn.engine import locks
from datadsn.engine import lots as lot_files
from datadsn.engine.lots import Committed, LotVersion
from datadsn.engine.runner import quote_path
from datadsn.home import default_home
from datadsn.stages import CATALOG_VIEW_MODULES

if TYPE_CHECKING:  # Arrow is imported by the writers only: reading commands do without it
    import pyarrow as pa

PARTITION = "mois_declaration"
REJECTIONS = "rejections"
FILES = "fichiers"
UNKNOWN_MONTH = "inconnu"
# Schema of the catalogue's own state: the committed lots its raw views list, and the schemas
# the stages keep from one refresh to the next (``keep_schema``).
CATALOGUE_STATE = "datadsn_catalogue"
KEPT = f"{CATALOGUE_STATE}.schemas"


class Warehouse:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()

    @classmethod
    def at(cls, warehouse: Path | None) -> Warehouse:
        """The warehouse given on the command line, else ``$DATADSN_HOME/warehouse``."""
        return cls(warehouse if warehouse else default_home() / "warehouse")

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def rejections(self) -> Path:
        return self.root / REJECTIONS

    @property
    def lots(self) -> Path:
        return self.root / lot_files.MANIFESTS

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def ingestion_lock(self) -> Path:
        """Held by the ingestion: one at a time."""
        return self.lots / ".verrou"

    @property
    def consolidation_lock(self) -> Path:
        """Held by the consolidation: one at a time; no file it may read is removed meanwhile."""
        return self.root / "quality" / ".verrou"

    def interrupted_lots(self) -> list[str]:
        """Lots with files left by an ingestion killed before its end (none while an ingestion
        runs: its files are not left yet). They are not served; the next ingestion removes
        them."""
        if not locks.is_free(self.ingestion_lock):
            return []
        return lot_files.interrupted(self.root, self.committed())

    def exists(self) -> bool:
        return self.catalog.exists()

    @property
    def data_folders(self) -> tuple[Path, Path, Path]:
        """The folders holding lot files."""
        return (self.raw, self.rejections, self.files)

    def committed(self) -> Committed:
        return lot_files.committed(self.root)

    def table_files(
        self, table: str, months: list[str] | None = None, served: Committed | None = None
    ) -> list[Path]:
        """The served files of a raw table (of ``months`` only, if given), sorted."""
        served = self.committed() if served is None else served
        folder = self.raw / table
        if months is None:
            candidates = folder.glob(f"{PARTITION}=*/*.parquet")
        else:
            candidates = (
                p for m in months for p in (folder / f"{PARTITION}={m}").glob("*.parquet")
            )
        return lot_files.served(candidates, served)

    def served_files(self, folder: Path, served: Committed | None = None) -> list[Path]:
        """The served files of ``rejections/`` or ``fichiers/``."""
        return lot_files.served(
            folder.glob("*.parquet"), self.committed() if served is None else served
        )

    def scan_sql(self, table: str, served: Committed | None = None) -> str | None:
        """A DuckDB scan of a raw table's served files (None: the table has none)."""
        if table in (REJECTIONS, FILES):
            files = self.served_files(self.root / table, served)
            hive = ""
        else:
            files = self.table_files(table, served=served)
            hive = "hive_partitioning = true, "
        if not files:
            return None
        listed = ", ".join(quote_path(f) for f in files)
        return f"read_parquet([{listed}], {hive}union_by_name = true)"

    def write_table(self, table_name: str, table: pa.Table, lot: LotVersion, part: int) -> None:
        """Write one raw table, one file per declared month, atomically (temp file + rename)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        months = table.column(PARTITION).cast(pa.string())  # compute kernels lack string views
        distinct = pc.unique(months).to_pylist()
        if len(distinct) > 1:  # rare: Arrow cannot filter string views, plain strings it can
            table = table.cast(_plain_strings(table.schema))
        for month in distinct:
            if len(distinct) > 1:
                rows = table.filter(
                    pc.is_null(months) if month is None else pc.equal(months, month)
                )
            else:  # one month (the usual case): no copy
                rows = table
            rows = rows.drop_columns([PARTITION])
            folder = self.raw / table_name / f"{PARTITION}={month or UNKNOWN_MONTH}"
            _write_atomic(rows, folder / f"{lot.stem(part)}.parquet")

    def write_rejections(self, table: pa.Table, lot: LotVersion, part: int | str) -> None:
        # Written even when empty, so that raw.rejections always exists and can be queried.
        _write_atomic(table, self.rejections / f"{lot.stem(part)}.parquet")

    @property
    def files(self) -> Path:
        return self.root / FILES

    def write_file_info(self, table: pa.Table, lot: LotVersion, part: int) -> None:
        _write_atomic(table, self.files / f"{lot.stem(part)}.parquet")

    def raw_tables(self, served: Committed | None = None) -> list[str]:
        """Raw tables with at least one served file."""
        if not self.raw.exists():
            return []
        served = self.committed() if served is None else served
        return sorted(
            p.name
            for p in self.raw.iterdir()
            if p.is_dir() and not p.name.startswith(".") and self.table_files(p.name, None, served)
        )

    def refresh_catalog(self) -> None:
        """(Re)create the DuckDB views over every Parquet folder of the warehouse, in a file of
        its own then renamed into place: commands refreshing at the same time (an ingestion
        ending while a consolidation does) each build a whole catalogue, and the last one in
        place wins, instead of writing into one shared temporary file."""
        for module in STAGE_VIEW_MODULES:
            importlib.import_module(module)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{self.catalog.stem}-{uuid.uuid4().hex}.duckdb.tmp"
        try:
            self._build_catalog(tmp)
            os.replace(tmp, self.catalog)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)

    def _build_catalog(self, tmp: Path) -> None:
        """The catalogue into ``tmp``. The raw views list every served file and DuckDB reads
        the footer of each to create them, a cost that grows with the raw store: when the
        committed lots are those the current catalogue was built on (a consolidation ends,
        say), its raw views are copied as they are and only the stages' views are rebuilt."""
        served = self.committed()
        signature = json.dumps(sorted(served.items()))
        con, reused = self._open_copy(tmp, signature)
        if not reused:
            _carry_caches(con, self.catalog)
        with con:
            con.begin()  # one commit: each statement on its own wrote the file's log again
            if reused:
                _drop_stage_views(con)
            else:
                con.execute("CREATE SCHEMA IF NOT EXISTS raw")
                for name in [*self.raw_tables(served), REJECTIONS, FILES]:
                    scan = self.scan_sql(name, served)
                    if scan is not None:
                        con.execute(f"CREATE VIEW raw.{name} AS SELECT * FROM {scan}")
                con.execute(
                    f"CREATE TABLE {CATALOGUE_STATE}.lots AS SELECT ?::VARCHAR AS servis",
                    [signature],
                )
                con.execute(f"CREATE TABLE {KEPT} (nom VARCHAR, signature VARCHAR)")
            con.execute("CREATE TEMP TABLE schemas_demandes (nom VARCHAR)")
            for hook in _catalog_hooks:
                hook(self, con)
            for (schema,) in con.execute(
                f"SELECT nom FROM {KEPT} EXCEPT SELECT nom FROM schemas_demandes"
            ).fetchall():
                con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                con.execute(f"DELETE FROM {KEPT} WHERE nom = ?", [schema])
            con.commit()

    def _open_copy(self, tmp: Path, signature: str) -> tuple[duckdb.DuckDBPyConnection, bool]:
        """A connection to ``tmp``: a copy of the current catalogue if it was built on the lots
        ``signature`` names (True), else a new empty file (False)."""
        try:
            shutil.copyfile(self.catalog, tmp)
            con = duckdb.connect(str(tmp))
            try:
                row = con.execute(f"SELECT servis FROM {CATALOGUE_STATE}.lots").fetchone()
                con.execute(f"SELECT count(*) FROM {KEPT}")  # the whole state, or none of it
                if row is not None and row[0] == signature:
                    return con, True
            except duckdb.Error:
                pass
            con.close()
        except (OSError, duckdb.Error):  # none yet, or built by an older version
            pass
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        return duckdb.connect(str(tmp)), False

    def stale(self) -> bool:
        """Whether a lot was committed or a snapshot published after the catalogue was built
        (a command killed between the two, say)."""
        try:
            built = self.catalog.stat().st_mtime_ns
        except FileNotFoundError:
            return True
        marks = [
            *self.lots.glob("*.json"),
            self.root / "quality" / "CURRENT",
        ]
        return any(m.exists() and m.stat().st_mtime_ns > built for m in marks)

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        if self.stale():
            self.refresh_catalog()
        return duckdb.connect(str(self.catalog), read_only=read_only)


def _carry_caches(con: duckdb.DuckDBPyConnection, previous: Path) -> None:
    """Create the catalogue's state schema in a new catalogue, with the tables the stages keep
    in the ``previous`` one (a listing of immutable files, say) copied over: they stay true when
    the raw lots change. The lots and the kept schemas describe what this catalogue rebuilds."""
    con.execute(f"CREATE SCHEMA {CATALOGUE_STATE}")
    try:
        con.execute(f"ATTACH {quote_path(previous)} AS ancien (READ_ONLY)")
    except duckdb.Error:  # none yet, or in use
        return
    try:
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ancien' "
            "AND schema_name = ? AND table_name NOT IN ('lots', 'schemas')",
            [CATALOGUE_STATE],
        ).fetchall():
            con.execute(
                f'CREATE TABLE {CATALOGUE_STATE}."{name}" AS '
                f'SELECT * FROM ancien.{CATALOGUE_STATE}."{name}"'
            )
    finally:
        con.execute("DETACH ancien")


def _drop_stage_views(con: duckdb.DuckDBPyConnection) -> None:
    """Remove what the catalogue hooks made (every view and schema but ``raw``, the catalogue's
    state and the schemas kept by :func:`keep_schema`), before they make it again."""
    kept = {r[0] for r in con.execute(f"SELECT nom FROM {KEPT}").fetchall()}
    kept |= {"main", "raw", CATALOGUE_STATE}
    for schema, view in con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE NOT internal AND database_name = current_database()"
    ).fetchall():
        if schema == "main" or schema not in kept:
            con.execute(f'DROP VIEW "{schema}"."{view}"')
    for (schema,) in con.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE NOT internal "
        "AND database_name = current_database()"
    ).fetchall():
        if schema not in kept:
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')


def keep_schema(con: duckdb.DuckDBPyConnection, schema: str, signature: str) -> bool:
    """For a catalogue hook: whether ``schema`` is in the catalogue as a previous refresh built
    it from ``signature`` (what its views read: the hook then leaves it as it is); otherwise it
    is created empty and recorded with ``signature``, for the hook to fill. A schema a refresh's
    hooks no longer ask for is dropped."""
    con.execute("INSERT INTO schemas_demandes VALUES (?)", [schema])
    row = con.execute(f"SELECT signature FROM {KEPT} WHERE nom = ?", [schema]).fetchone()
    if row is not None and row[0] == signature:
        return True
    con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.execute(f'CREATE SCHEMA "{schema}"')
    con.execute(f"DELETE FROM {KEPT} WHERE nom = ?", [schema])
    con.execute(f"INSERT INTO {KEPT} VALUES (?, ?)", [schema, signature])
    return False


CatalogHook = Callable[[Warehouse, duckdb.DuckDBPyConnection], None]
# Later stages (quality snapshots...) register functions that add their views to the catalogue.
_catalog_hooks: list[CatalogHook] = []
# The modules that register them (datadsn/stages.py), imported before each rebuild.
STAGE_VIEW_MODULES = CATALOG_VIEW_MODULES


def register_catalog_hook(hook: CatalogHook) -> None:
    """Have ``hook(warehouse, connection)`` add views each time the catalogue is rebuilt."""
    if hook not in _catalog_hooks:
        _catalog_hooks.append(hook)


def _plain_strings(schema: pa.Schema) -> pa.Schema:
    """The schema with string views as plain strings (the parser hands over string views)."""
    import pyarrow as pa

    return pa.schema(
        f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f for f in schema
    )


def _write_atomic(table: pa.Table, target: Path) -> None:
    import pyarrow.parquet as pq

    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: two attempts of one Spark task (a retry, a speculative copy) may
    # write the same target at once; each renames a whole file into place.
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    # No dictionary pages: most raw columns are ids, pseudonyms and amounts, on which the writer
    # built a dictionary only to drop it; without, writing took 0.06 s instead of 0.08 s for a
    # 24 MB chunk's tables, and the files are a fifth smaller (zstd compresses repeated codes).
    pq.write_table(table, tmp, compression="zstd", use_dictionary=False)
    os.replace(tmp, target)
