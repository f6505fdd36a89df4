"""The warehouse's DuckDB catalogue: views over the Parquet folders."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pytest

from datadsn.engine import lots
from datadsn.engine import warehouse as warehouse_module
from datadsn.engine.lots import LotVersion
from datadsn.engine.warehouse import PARTITION, Warehouse


def test_catalogues_refreshed_at_the_same_time_do_not_collide(tmp_path: Path) -> None:
    """An ingestion and a consolidation ending together each rebuild the catalogue: both
    used to write one shared temporary file (write-write conflicts, or a half-built file
    renamed into place)."""
    store = Warehouse(tmp_path / "warehouse")
    folder = store.raw / "declaration" / f"{PARTITION}=2023-01"
    folder.mkdir(parents=True)
    version = LotVersion("lot", "v1")
    target = folder / f"{version.stem(1)}.parquet"
    duckdb.sql(f"COPY (SELECT 'f.dsn' AS fichier, 1 AS ligne) TO '{target}'")
    lots.commit(store.root, version, {})
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            for _ in range(3):
                store.refresh_catalog()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.connect() as con:
        assert con.execute("SELECT fichier, ligne FROM raw.declaration").fetchall() == [
            ("f.dsn", 1)
        ]
    assert [p.name for p in store.root.iterdir() if p.is_file()] == ["catalog.duckdb"]


def _one_lot(store: Warehouse, version: LotVersion, value: str) -> None:
    folder = store.raw / "declaration" / f"{PARTITION}=2023-01"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{version.stem(1)}.parquet"
    duckdb.sql(f"COPY (SELECT '{value}' AS fichier, 1 AS ligne) TO '{target}'")
    lots.commit(store.root, version, {})


def test_catalogue_keeps_its_raw_views_while_the_lots_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consolidation ending rebuilt the raw views too, reading the footer of every raw file
    (a cost growing with the raw store) though no lot had changed: they are kept now, the
    stages' views made again, and the raw views rebuilt once a lot changes."""
    store = Warehouse(tmp_path / "warehouse")
    _one_lot(store, LotVersion("lot", "v1"), "a.dsn")
    made: list[str] = []

    def hook(_: Warehouse, con: duckdb.DuckDBPyConnection) -> None:
        made.append("x")
        schema = f"etape_{len(made)}"  # a schema of its own each time: the old one must go
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE VIEW {schema}.v AS SELECT {len(made)} AS n")
        con.execute(f"CREATE OR REPLACE VIEW courant AS SELECT {len(made)} AS n")

    monkeypatch.setattr(warehouse_module, "_catalog_hooks", [hook])
    store.refresh_catalog()
    real_scan = Warehouse.scan_sql
    monkeypatch.setattr(Warehouse, "scan_sql", _no_scan)
    store.refresh_catalog()
    with store.connect() as con:
        assert con.execute("SELECT fichier FROM raw.declaration").fetchall() == [("a.dsn",)]
        assert con.execute("SELECT n FROM courant").fetchall() == [(2,)]
        schemas = {r[0] for r in con.sql("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    assert "etape_2" in schemas and "etape_1" not in schemas
    monkeypatch.setattr(Warehouse, "scan_sql", real_scan)
    _one_lot(store, LotVersion("lot", "v2"), "b.dsn")  # same file name pattern, new version
    store.refresh_catalog()
    with store.connect() as con:
        assert con.execute("SELECT fichier FROM raw.declaration").fetchall() == [("b.dsn",)]


def _no_scan(*_: object, **__: object) -> str:
    raise AssertionError("raw views rebuilt while no lot changed")


@pytest.mark.parametrize("state", ["aucun", "lots seuls"])
def test_catalogue_of_an_older_version_is_rebuilt_whole(tmp_path: Path, state: str) -> None:
    """A catalogue without the state of this version (none, or the lots alone) is not reused."""
    store = Warehouse(tmp_path / "warehouse")
    _one_lot(store, LotVersion("lot", "v1"), "a.dsn")
    signature = json.dumps(sorted(store.committed().items()))
    with duckdb.connect(str(store.catalog)) as con:
        con.execute("CREATE TABLE ancienne AS SELECT 1 AS x")
        if state == "lots seuls":
            con.execute(f"CREATE SCHEMA {warehouse_module.CATALOGUE_STATE}")
            con.execute(
                f"CREATE TABLE {warehouse_module.CATALOGUE_STATE}.lots AS SELECT ? AS servis",
                [signature],
            )
    store.refresh_catalog()
    with store.connect() as con:
        assert con.execute("SELECT fichier FROM raw.declaration").fetchall() == [("a.dsn",)]


def test_interrupted_ingestions_are_found_by_their_markers(tmp_path: Path) -> None:
    root = tmp_path / "warehouse"
    first = LotVersion("lot", "v1")
    lots.begin(root, first)
    assert lots.interrupted(root, lots.committed(root)) == ["lot"]
    lots.commit(root, first, {})
    assert lots.interrupted(root, lots.committed(root)) == []
    lots.begin(root, LotVersion("lot", "v2"))  # a re-ingestion killed before its commit
    lots.begin(root, LotVersion("autre", "v1"))
    assert lots.interrupted(root, lots.committed(root)) == ["autre", "lot"]
    lots.forget_started(root)
    assert lots.interrupted(root, lots.committed(root)) == []


def test_a_kept_schema_is_rebuilt_only_when_its_signature_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quality snapshots' month schemas were rebuilt by every refresh, each view reading
    Parquet footers, though a published month does not change: a stage keeps a schema under a
    signature of what it reads, and it is rebuilt when that changes, dropped once not asked."""
    store = Warehouse(tmp_path / "warehouse")
    _one_lot(store, LotVersion("lot", "v1"), "a.dsn")
    wanted = {"mois_a": "v1"}
    built: list[str] = []

    def hook(_: Warehouse, con: duckdb.DuckDBPyConnection) -> None:
        for schema, signature in wanted.items():
            if not warehouse_module.keep_schema(con, schema, signature):
                built.append(schema)
                con.execute(f"CREATE VIEW {schema}.v AS SELECT '{signature}' AS s")

    monkeypatch.setattr(warehouse_module, "_catalog_hooks", [hook])

    def schemas() -> dict[str, str]:
        with store.connect() as con:
            names = [
                r[0]
                for r in con.sql("SELECT schema_name FROM duckdb_schemas()").fetchall()
                if r[0].startswith("mois_")
            ]
            return {n: con.execute(f"SELECT s FROM {n}.v").fetchall()[0][0] for n in names}

    store.refresh_catalog()
    store.refresh_catalog()
    assert built == ["mois_a"] and schemas() == {"mois_a": "v1"}
    wanted.update(mois_a="v2", mois_b="v1")
    store.refresh_catalog()
    assert built == ["mois_a", "mois_a", "mois_b"]
    assert schemas() == {"mois_a": "v2", "mois_b": "v1"}
    del wanted["mois_a"]
    store.refresh_catalog()
    assert schemas() == {"mois_b": "v1"} and len(built) == 3
