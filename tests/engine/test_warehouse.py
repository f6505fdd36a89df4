"""The warehouse's DuckDB catalogue: views over the Parquet folders, rebuilt whole."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from datadsn.engine import lots
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
