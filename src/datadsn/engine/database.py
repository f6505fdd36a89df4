"""The process's DuckDB database for pipeline runs, reused from one run to the next.

Closing an in-memory DuckDB database hands all its memory back to the system, and the next run
of the same process (``consolidate --through``, the benchmark) faulted it all in again: about
145,000 page faults and a fifth of the CPU time of a month at 20,000 employees. A run borrows a
connection to one database kept for the life of the process instead, and leaves it empty:
every table and view it created is dropped at its end, failed or not, so nothing of one run
can reach the next. Runs of one process take turns (a lock): their tables share one catalogue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

_database: duckdb.DuckDBPyConnection | None = None
_created = threading.Lock()  # guards the creation of the database
_lock = threading.Lock()  # runs take turns


def _process_database() -> duckdb.DuckDBPyConnection:
    global _database
    with _created:
        if _database is None:
            _database = duckdb.connect()
        return _database


def read_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's database, from any thread, in a run or not, for a query that
    creates nothing (a file's columns, say): a database of its own cost 12 ms to open."""
    database = _process_database()
    with _created:  # one thread at a time registers a cursor on the shared connection
        return database.cursor()


@contextmanager
def run_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the process's empty in-memory database, emptied again after use."""
    with _lock:
        con = _process_database().cursor()
        try:
            drop_all(con)  # defensive: a run killed by KeyboardInterrupt mid-drop
            yield con
        finally:
            try:
                drop_all(con)
            finally:
                con.close()


def drop_all(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every view and table of the database's main schema."""
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'main' "
        "ORDER BY table_type = 'BASE TABLE'"  # views first
    ).fetchall()
    for name, kind in rows:
        what = "TABLE" if kind == "BASE TABLE" else "VIEW"
        con.execute(f'DROP {what} IF EXISTS "{name}"')
