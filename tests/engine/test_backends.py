"""The engine backends keep one contract: the same calls give the same tables on DuckDB and Spark.

The DuckDB cases run everywhere; the Spark ones (marker ``spark``) start a local session once
per process (``local[2]``), and run again as a Spark Connect client (``conftest.py``'s server).
The Spark translation of ``read_parquet`` is checked without Spark.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datadsn.engine import backends
from datadsn.engine.backends import Backend, EngineError, engine_name
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.backends.spark import REMOTE_ENV, translate

SPARK = [pytest.param(e, marks=pytest.mark.spark) for e in ("spark", "spark-connect")]


@pytest.fixture(params=["duckdb", *SPARK])
def db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    master: str | None = "local[2]"
    if request.param == "spark-connect":  # a client of conftest.py's server
        monkeypatch.setenv(REMOTE_ENV, request.getfixturevalue("connect_server").url)
        master = None
    with backends.session(request.param.split("-")[0], threads=1, master=master) as backend:
        yield backend


def _parts(tmp_path: Path) -> list[str]:
    """Two hive-partitioned files whose columns differ (the second lacks ``montant``)."""
    first = tmp_path / "raw" / "mois_declaration=2023-01" / "a+b.parquet"
    second = tmp_path / "raw" / "mois_declaration=2023-02" / "c.parquet"
    for path in (first, second):
        path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table({"fichier": ["f1", "f2"], "montant": pa.array([1, 2], pa.decimal128(18, 2))}),
        first,
    )
    pq.write_table(pa.table({"fichier": ["f3"]}), second)
    return [str(first), str(second)]


def test_parquet_inputs_by_name_with_partition_and_file_name(db: Backend, tmp_path: Path) -> None:
    first, second = _parts(tmp_path)
    listed = f"'{first}', '{second}'"
    rows = db.rows(
        "SELECT fichier, montant, CAST(mois_declaration AS VARCHAR) AS m, filename "
        f"FROM read_parquet([{listed}], union_by_name = true, filename = true) r "
        "ORDER BY fichier"
    )
    assert rows == [
        ("f1", Decimal("1.00"), "2023-01", first),
        ("f2", Decimal("2.00"), "2023-01", first),
        ("f3", None, "2023-02", second),
    ]
    assert set(db.columns(f"SELECT * FROM read_parquet('{second}')")) >= {"fichier"}


def test_tables_views_and_parameters(db: Backend) -> None:
    name = "nom'); DROP TABLE t; --"
    db.create(
        "t", "SELECT CAST(? AS VARCHAR) AS v, CAST(? AS DATE) AS d", params=[name, "2023-01-01"]
    )
    assert db.rows("SELECT v, d FROM t") == [(name, dt.date(2023, 1, 1))]
    db.create("v", "SELECT v FROM t", kind="view")
    db.append("t", "SELECT 'b', DATE '2023-02-01'")
    assert db.rows("SELECT count(*) FROM t") == [(2,)]
    db.delete("t", "x", "x.v = 'b'")
    assert db.rows("SELECT count(*) FROM t") == [(1,)]
    db.rename("t", "u")
    db.create_empty("t", {"a": "INTEGER", "m": "DECIMAL(18,2)"})
    assert db.rows("SELECT count(*) FROM t") == [(0,)]
    assert db.columns("SELECT * FROM t") == ["a", "m"]
    db.drop("t")
    assert db.rows("SELECT count(*) FROM u") == [(1,)]


@pytest.mark.spark
def test_a_timestamp_parameter_is_stored_as_written_whatever_the_local_time_zone(
    tmp_path: Path,
) -> None:
    # Django sets TZ=Europe/Paris in the process: bound from a worker thread (as the
    # consolidation prepares its inputs), a naive datetime became a literal one hour off the
    # session's UTC clock, seen in the Parquet file written (chargements.debut)
    target = tmp_path / "p.parquet"
    script = (
        "import datetime as dt, pathlib\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from datadsn.engine import backends\n"
        "with backends.session('spark', threads=1, master='local[1]') as db:\n"
        "    with ThreadPoolExecutor(1) as pool:\n"
        "        pool.submit(db.create, 'p', 'SELECT CAST(? AS TIMESTAMP) AS debut',"
        " params=[dt.datetime(2024, 1, 31, 12, 0)]).result()\n"
        f"    db.write_parquet('SELECT debut FROM p', pathlib.Path({str(target)!r}))\n"
    )
    env = {**os.environ, "TZ": "Europe/Paris"}
    subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, check=True)
    stored = duckdb.connect().execute(f"SELECT debut FROM read_parquet('{target}')").fetchall()
    assert stored == [(dt.datetime(2024, 1, 31, 12, 0),)]


def test_arrow_in_and_out_and_one_sorted_parquet_file(db: Backend, tmp_path: Path) -> None:
    db.from_arrow("a", pa.table({"k": [3, 1, 2], "s": ["c", "a", "b"]}))
    assert db.to_arrow("SELECT k FROM a ORDER BY k").column("k").to_pylist() == [1, 2, 3]
    db.from_arrow("e", pa.table({"k": pa.array([], pa.int64())}))  # Connect infers no schema
    assert db.rows("SELECT count(*), lower(typeof(max(k))) FROM e") == [(0, "bigint")]
    target = tmp_path / "out" / "a.parquet"
    db.write_parquet("SELECT CAST(k AS INTEGER) AS k, s FROM a", target, order_by="k")
    table = pq.read_table(target)
    assert table.column("k").to_pylist() == [1, 2, 3]
    assert table.schema.field("k").type == pa.int32()
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.parquet"]  # nothing left over


def test_texts_in_with_nulls_quotes_and_no_rows(db: Backend) -> None:
    odd = 'l\'été "cité" \\ ;'
    db.from_texts("t", {"a": ["x", None, odd], "b": ["1", "2", None]})
    assert sorted(db.rows("SELECT a, b FROM t"), key=repr) == sorted(
        [("x", "1"), (None, "2"), (odd, None)], key=repr
    )
    db.from_texts("v", {"a": []})
    assert db.rows("SELECT count(*) FROM v") == [(0,)]


def test_translate_registers_parquet_scans() -> None:
    sql, scans = translate(
        "SELECT * FROM read_parquet(['/x/a.parquet', '/x/b.parquet'], union_by_name = true, "
        "filename = true) r WHERE EXISTS (SELECT 1 FROM read_parquet('/y.parquet') p)"
    )
    assert sorted(spec for _, spec in scans) == [
        (("/x/a.parquet", "/x/b.parquet"), True, True),
        (("/y.parquet",), False, False),
    ]
    assert "read_parquet" not in sql.lower() and all(view in sql for view, _ in scans)


def test_engine_name_from_option_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATADSN_ENGINE", raising=False)
    assert engine_name(None) == "duckdb"
    monkeypatch.setenv("DATADSN_ENGINE", "Spark")
    assert engine_name(None) == "spark"
    assert engine_name("duckdb") == "duckdb"
    with pytest.raises(EngineError, match="moteur inconnu"):
        engine_name("oracle")


def test_duckdb_backend_write_replaces_atomically(tmp_path: Path) -> None:
    db = DuckDBBackend(duckdb.connect())
    target = tmp_path / "t.parquet"
    target.write_bytes(b"old")
    db.write_parquet("SELECT 1 AS a", target)
    assert pq.read_table(target).num_rows == 1
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
