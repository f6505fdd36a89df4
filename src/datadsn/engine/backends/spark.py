"""The Spark backend: the portable SQL transpiled by SQLGlot, tables as checkpointed temp views.

A table is a query's result checkpointed on the executors (``localCheckpoint``: computed once,
lineage cut) and named by a temporary view. Caching instead kept every table's whole lineage in
the plans: analysing the 30th step of a month ran the driver out of memory. A checkpoint keeps
its size statistics, so Spark still broadcasts small tables instead of shuffling them.
``read_parquet(...)`` calls of the DuckDB dialect become views over ``spark.read.parquet``: the
``union_by_name`` option maps to ``mergeSchema``, ``filename = true`` to a ``filename`` column
holding the plain path, and ``key=value`` folders to partition columns, as DuckDB reads them.
Files are written by one task (one sorted file per table, as the DuckDB backend writes it) and
renamed into place by the driver: the driver and the executors must share the file system (a
local or standalone cluster, or a shared mount; docs/spark.md).

The session comes from ``SPARK_REMOTE`` (Spark Connect) when set, else from ``spark-submit``
when it launched the process, else ``--master`` (or ``SPARK_MASTER``), else ``local[*]``; it is
kept for the process, like the DuckDB database, and emptied after each run. The backend uses
only what both kinds of session offer (SQL, DataFrames, temp views, ``localCheckpoint``, Arrow):
one code for classic sessions and Spark Connect clients.
"""

from __future__ import annotations

import atexit
import glob
import hashlib
import os
import shutil
import socket
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from . import EngineError, Kind

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MASTER_ENV = "SPARK_MASTER"
REMOTE_ENV = "SPARK_REMOTE"
DEFAULT_MASTER = "local[*]"
_JAVA_HOMES = "/usr/lib/jvm/java-17-openjdk-*"
# Session settings (all SQL ones, which a Spark Connect client may set too) that make Spark read
# and write what DuckDB does: strings for partition folders,
# timestamps without time zone as INT64 microseconds, UTC.
CONFIG: dict[str, str | int | float | bool | None] = {  # the type PySpark's config(map=) takes
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.adaptive.enabled": "true",
    # Checkpointing a union of a view and a checkpointed table failed in Spark 4.0.5 while
    # propagating constraints (NoSuchElementException in UnionBase.rewriteConstraints: a month
    # bringing archived contracts back); the constraints only add redundant filters here.
    "spark.sql.constraintPropagation.enabled": "false",
}


Scan = tuple[tuple[str, ...], bool, bool]  # files, union by name, with the file name


@lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[tuple[str, Scan], ...]]:
    """A portable query in Spark SQL, and the Parquet scans it names (view name, scan).
    Cached: a month runs the same steps as the month before."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    scans: dict[str, Scan] = {}
    for table in list(tree.find_all(exp.Table)):
        call = table.this
        if not isinstance(call, exp.ReadParquet):
            continue
        files: list[str] = []
        options = {"union_by_name": False, "filename": False}
        for arg in call.expressions:
            if isinstance(arg, exp.Array):
                files += [e.name for e in arg.expressions]
            elif isinstance(arg, exp.Literal):
                files.append(arg.name)
            elif isinstance(arg, exp.EQ):
                options[arg.this.name.lower()] = arg.expression.sql().lower() == "true"
            else:
                raise ValueError(f"read_parquet : argument non pris en charge {arg.sql()}")
        spec = (tuple(files), options["union_by_name"], options["filename"])
        view = "parquet_" + hashlib.sha1(repr(spec).encode()).hexdigest()[:16]
        scans[view] = spec
        alias = table.alias
        table.replace(exp.to_table(view).as_(alias) if alias else exp.to_table(view))
    return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE), tuple(scans.items())


def _base_path(files: Sequence[str]) -> str | None:
    """The folder above the ``key=value`` folders of the files, when they all have one."""
    parents = {Path(f).parent for f in files}
    if not all("=" in p.name for p in parents):
        return None
    bases = {str(p.parent) for p in parents}
    return bases.pop() if len(bases) == 1 else None


def is_classic(spark: SparkSession) -> bool:
    """A classic session, not a Spark Connect one (whose class is another, not a subclass)."""
    from pyspark.sql import SparkSession

    return isinstance(spark, SparkSession)


def functions(spark: SparkSession) -> ModuleType:
    """PySpark's column functions for the session's kind: ``pyspark.sql.functions`` picks the
    classic or the Connect ones by a process-wide flag, wrong in a process holding both."""
    if is_classic(spark):
        from pyspark.sql import functions as classic

        return classic
    from pyspark.sql.connect import functions as connect

    return connect


class SparkBackend:
    engine = "spark"

    def __init__(self, spark: SparkSession):
        self.spark = spark
        self._views: set[str] = set()
        self._lock = threading.Lock()

    def _df(self, sql: str, params: Sequence[Any] = ()) -> DataFrame:
        query, scans = translate(sql)
        for view, spec in scans:
            self._register(view, *spec)
        return self.spark.sql(query, args=[_utc(p) for p in params] or None)

    def _register(self, view: str, files: tuple[str, ...], by_name: bool, filename: bool) -> None:
        F = functions(self.spark)
        with self._lock:
            if view in self._views:
                return
            reader = self.spark.read.option("mergeSchema", str(by_name).lower())
            base = _base_path(files)
            if base:
                reader = reader.option("basePath", base)
            df = reader.parquet(*files)
            if filename:
                # the path as DuckDB gives it: Spark gives a URI, escaped (a '+' stays as is)
                uri = F.regexp_replace(F.col("_metadata.file_path"), r"^file:(//)?", "")
                plain = F.url_decode(F.replace(uri, F.lit("+"), F.lit("%2B")))
                df = df.withColumn("filename", plain)
            df.createOrReplaceTempView(view)
            self._views.add(view)

    def _name(self, name: str, df: DataFrame) -> None:
        df.createOrReplaceTempView(name)
        with self._lock:
            self._views.add(name)

    def _materialise(self, name: str, df: DataFrame) -> None:
        """Checkpoint ``df`` as table ``name`` (one job). Blocks of a table replaced or dropped
        go when the driver no longer references them."""
        self._name(name, df.localCheckpoint(eager=True))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._df(sql, params).collect()]

    def columns(self, sql: str) -> list[str]:
        return list(self._df(sql).columns)

    def create(self, name: str, sql: str, kind: Kind = "table", params: Sequence[Any] = ()) -> None:
        df = self._df(sql, params)
        if kind == "view":
            self._name(name, df)
        else:
            self._materialise(name, df)

    def create_empty(self, name: str, columns: Mapping[str, str]) -> None:
        nulls = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
        self._name(name, self._df(f"SELECT {nulls} LIMIT 0"))

    def append(self, name: str, sql: str) -> None:
        # by position, as INSERT INTO name SELECT ... does
        self._materialise(name, self.spark.table(name).union(self._df(sql)))

    def delete(self, name: str, alias: str, condition: str) -> None:
        kept = f"SELECT {alias}.* FROM {name} {alias} WHERE NOT coalesce(({condition}), false)"
        self._materialise(name, self._df(kept))

    def rename(self, old: str, new: str) -> None:
        self._name(new, self.spark.table(old))
        self.drop(old)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        with self._lock:
            self._views.discard(name)

    def from_arrow(self, name: str, table: pa.Table) -> None:
        from pyspark.sql.pandas.types import from_arrow_schema

        # the schema given, not inferred: Spark Connect infers none from an empty table
        schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=True)
        self._name(name, self.spark.createDataFrame(table, schema=schema))

    def from_texts(self, name: str, columns: Mapping[str, Sequence[str | None]]) -> None:
        self.from_arrow(name, pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()}))

    def to_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self._df(sql, params).toArrow()

    def write_parquet(self, sql: str, target: Path, order_by: str | None = None) -> None:
        F = functions(self.spark)
        df = self._df(sql).repartition(1)
        if order_by:
            df = df.sortWithinPartitions(*(F.expr(c) for c in order_by.split(",")))
        target.parent.mkdir(parents=True, exist_ok=True)
        work = target.with_name(f".{target.name}.spark-{uuid.uuid4().hex[:8]}")
        try:
            df.write.mode("overwrite").parquet(str(work))
            (part,) = glob.glob(str(work / "part-*.parquet"))
            os.replace(part, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def cursor(self) -> SparkBackend:
        return self  # a session serves several threads

    def close(self) -> None:
        pass

    def drop_all(self) -> None:
        for name in list(self._views):
            self.drop(name)


# The process's sessions, by kind: a classic one and the Connect ones (a test process holds both)
_sessions: dict[str, SparkSession] = {}
_session_lock = threading.Lock()
PARTITIONS_ENV = "DATADSN_SPARK_PARTITIONS"


def _java() -> None:
    """Point PySpark at a Java 17 when ``JAVA_HOME`` is not set (Debian's package)."""
    if os.environ.get("JAVA_HOME"):
        return
    found = sorted(glob.glob(_JAVA_HOMES))
    if found:
        os.environ["JAVA_HOME"] = found[0]
    elif shutil.which("java") is None:
        raise EngineError(
            "Java 17 introuvable pour Spark : installez openjdk-17-jre-headless ou "
            "renseignez JAVA_HOME"
        )


def get_session(master: str | None = None) -> SparkSession:
    """The process's Spark session (created at the first call): Spark Connect when
    ``SPARK_REMOTE`` is set and ``master`` is not, else a classic session."""
    try:
        from pyspark.sql import SparkSession  # noqa: F401
    except ImportError:
        raise EngineError(
            "moteur spark indisponible : installez pyspark 4.0 (uv sync --extra spark)"
        ) from None
    remote = None if master else os.environ.get(REMOTE_ENV)
    key = f"connect {remote}" if remote else "classic"
    with _session_lock:
        if key not in _sessions:
            _sessions[key] = _connect(remote) if remote else _classic(master)
        return _sessions[key]


def _classic(master: str | None) -> SparkSession:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("datadsn")
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):  # else spark-submit's --master and --conf apply
        builder = _local_settings(builder, master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER)
    builder = builder.config(map=CONFIG)
    # PySpark turns any session into a Connect one while SPARK_REMOTE is set: --master wins
    with _without(REMOTE_ENV, "SPARK_CONNECT_MODE_ENABLED"):
        session = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _local_settings(builder: Any, master: str) -> Any:
    """The settings of a Spark this process launches on ``master``: memory, partitions."""
    _java()
    # Python tasks (the ingestion's) run in this interpreter, which has datadsn
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = builder.master(master).config("spark.ui.enabled", "false")
    builder = builder.config("spark.sql.shuffle.partitions", _partitions(master))
    # the driver is the executor in local mode; Spark's 1 GB is tight for the plans
    return builder.config("spark.driver.memory", os.environ.get("DATADSN_SPARK_MEMORY", "2g"))


def _connect(remote: str) -> SparkSession:
    """A Spark Connect session to the server at ``sc://host:port``. Not PySpark's ``local[N]``
    remote, a server in this process: it binds the fixed port 15002, which any other server on
    the machine holds (docs/spark.md: scripts/spark-connect.sh starts one on any port)."""
    if not remote.startswith("sc://"):
        raise EngineError(
            f"SPARK_REMOTE={remote} : attendu l'adresse d'un serveur Spark Connect, "
            "sc://hôte:port (scripts/spark-connect.sh start en lance un)"
        )
    try:
        from pyspark.sql.connect.session import SparkSession as ConnectSession
        from pyspark.sql.connect.utils import check_dependencies

        check_dependencies(__name__)
    except ImportError:
        raise EngineError(
            "Spark Connect indisponible : installez les paquets de pyspark[connect] "
            "(uv sync --extra spark-connect)"
        ) from None
    _reachable(remote)
    # the Connect builder itself: PySpark's refuses a Connect session beside a classic one
    builder = ConnectSession.builder.remote(remote)
    if os.environ.get(PARTITIONS_ENV):
        builder = builder.config("spark.sql.shuffle.partitions", os.environ[PARTITIONS_ENV])
    session = builder.config(map=CONFIG).getOrCreate()
    atexit.register(_release, remote, session)
    return cast("SparkSession", session)  # the same API, another class


def _release(remote: str, session: Any) -> None:
    """At exit, free the session's views and checkpoints, which the server keeps until then;
    unless the server is gone (with them): the client would retry for minutes before exiting."""
    try:
        _reachable(remote)
    except EngineError:
        return
    session.stop()


def _reachable(remote: str) -> None:
    """Fail at once on a server that does not answer: the client retries for minutes."""
    from pyspark.sql.connect.client import DefaultChannelBuilder

    channel = DefaultChannelBuilder(remote)
    try:
        socket.create_connection((channel.host, channel._port), timeout=10).close()
    except OSError as exc:
        raise EngineError(
            f"serveur Spark Connect injoignable ({channel.endpoint}) : {exc.strerror or exc}"
        ) from None


@contextmanager
def _without(*names: str) -> Iterator[None]:
    saved = {n: os.environ.pop(n) for n in names if n in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _partitions(master: str) -> str:
    """Shuffle partitions: ``DATADSN_SPARK_PARTITIONS``, else the local cores (Spark's 200 cost
    a month of 40 employers several seconds of empty tasks), else Spark's default."""
    if os.environ.get(PARTITIONS_ENV):
        return os.environ[PARTITIONS_ENV]
    if master.startswith("local"):
        return str(max(2, os.cpu_count() or 2))
    return "200"


@contextmanager
def spark_session(master: str | None = None) -> Iterator[SparkBackend]:
    backend = SparkBackend(get_session(master))
    try:
        yield backend
    finally:
        backend.drop_all()


def _utc(value: Any) -> Any:
    """A naive datetime parameter as UTC: bound from a worker thread, PySpark turned a naive one
    into a literal through the process's local time zone (``TZ``, which Django sets to
    Europe/Paris), one hour off the session's UTC clock; DuckDB binds it as written."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
