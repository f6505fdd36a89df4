"""The engines a pipeline runs on: one small protocol, a DuckDB and a Spark implementation.

Steps, inputs and publication are written once against :class:`Backend`, in the project's
portable SQL (DuckDB dialect, ARCHITECTURE.md rule 4): the DuckDB backend runs it as it is, the
Spark backend transpiles it with SQLGlot and registers the Parquet files it names. A backend
materialises a query as a named table or view, loads Arrow tables or lists of texts, reads
results back, and writes one sorted Parquet file; user values travel as bound parameters
(``?``), never pasted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pyarrow costs a fresh command 0.2 CPU-s: imported where used
    import pyarrow as pa

ENGINES = ("duckdb", "spark")
ENGINE_ENV = "DATADSN_ENGINE"
Kind = Literal["table", "view"]


class EngineError(RuntimeError):
    """The engine asked for cannot be used (unknown name, Spark or Java missing)."""


class Backend(Protocol):
    """What a pipeline needs of an engine. ``sql`` is always portable (DuckDB dialect)."""

    engine: str

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The result rows of a query."""
        ...

    def columns(self, sql: str) -> list[str]:
        """The column names a query returns (without running it)."""
        ...

    def create(self, name: str, sql: str, kind: Kind = "table", params: Sequence[Any] = ()) -> None:
        """Materialise a query as table ``name`` (or define a view). No row count: on Spark it
        would cost a job per step, and no step needs it (``rows`` when one does)."""
        ...

    def create_empty(self, name: str, columns: Mapping[str, str]) -> None:
        """An empty table of these columns (name -> SQL type)."""
        ...

    def append(self, name: str, sql: str) -> None:
        """Add a query's rows to table ``name``."""
        ...

    def delete(self, name: str, alias: str, condition: str) -> None:
        """Remove the rows of table ``name`` (called ``alias``) where ``condition`` is true."""
        ...

    def rename(self, old: str, new: str) -> None: ...

    def drop(self, name: str) -> None:
        """Drop table or view ``name`` if it exists."""
        ...

    def from_arrow(self, name: str, table: pa.Table) -> None:
        """Table ``name`` holding an Arrow table's rows."""
        ...

    def from_texts(self, name: str, columns: Mapping[str, Sequence[str | None]]) -> None:
        """Table ``name`` of VARCHAR columns from Python lists of one length (None is NULL)."""
        ...

    def to_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table: ...

    def write_parquet(self, sql: str, target: Path, order_by: str | None = None) -> None:
        """A query's rows into one Parquet file, sorted, replacing ``target`` atomically."""
        ...

    def cursor(self) -> Backend:
        """A handle for another thread on the same tables (closed by :meth:`close`)."""
        ...

    def close(self) -> None: ...


def engine_name(engine: str | None) -> str:
    """The engine to use: ``engine``, else ``DATADSN_ENGINE``, else DuckDB."""
    name = (engine or os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if name not in ENGINES:
        raise EngineError(f"moteur inconnu : {name} (attendu : {', '.join(ENGINES)})")
    return name


@contextmanager
def session(
    engine: str | None = None,
    threads: int | None = None,
    master: str | None = None,
    own: bool = False,
) -> Iterator[Backend]:
    """A backend for one run, left empty at its end (tables and views dropped). With ``own``,
    DuckDB gets a database of its own instead of the process's: for a long session (the
    indicators') that must not hold the shared database's lock while other runs wait."""
    if engine_name(engine) == "spark":
        from .spark import spark_session

        with spark_session(master) as backend:
            yield backend
        return
    from .duck import duckdb_own, duckdb_session

    with duckdb_own(threads) if own else duckdb_session(threads) as duck:
        yield duck
