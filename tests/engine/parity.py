"""What the engines' parity tests compare: the rows of a published table (read back by DuckDB)
and the schemas of a month's files, between a DuckDB warehouse and a Spark one."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from datadsn.engine.warehouse import Warehouse
from datadsn.quality.history import table_sql
from datadsn.quality.schema import TABLES
from datadsn.quality.snapshot import snapshot_dir


def rows(folder: Path, table: str) -> list[tuple]:
    sql = table_sql(folder, table)
    assert sql is not None, (folder, table)
    return duckdb.connect().execute(f"SELECT * FROM ({sql}) ORDER BY ALL").fetchall()


def count(folder: Path, table: str, where: str) -> int:
    sql = f"SELECT count(*) FROM ({table_sql(folder, table)}) WHERE {where}"
    return int(duckdb.connect().execute(sql).fetchall()[0][0])


def differing_tables(duck: Warehouse, other: Warehouse, month: str) -> list[tuple[str, int, int]]:
    """The tables of ``month`` whose rows differ: (table, DuckDB's rows, the other's)."""
    differ = []
    for table in TABLES:
        mine, theirs = (rows(snapshot_dir(s, month), table) for s in (duck, other))
        if mine != theirs:
            differ.append((table, len(mine), len(theirs)))
    return differ


def assert_same_files_and_schemas(duck: Warehouse, other: Warehouse, month: str) -> None:
    mine, theirs = (snapshot_dir(s, month) for s in (duck, other))
    files = sorted(p.relative_to(mine) for p in mine.rglob("*.parquet"))
    assert files == sorted(p.relative_to(theirs) for p in theirs.rglob("*.parquet"))
    for name in files:
        a, b = (pq.read_schema(folder / name) for folder in (mine, theirs))
        assert [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b], (month, name)
