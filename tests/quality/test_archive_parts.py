"""The contract archive receives rows in files of their own and withdraws rows by listing them:
what a snapshot publishes is the same as when every month receiving or losing rows is written
again whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datadsn.bench.fresh import differing_tables
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality import archive
from datadsn.quality.consolidate import consolidate
from datadsn.quality.snapshot import snapshot_dir
from datadsn.simulate import simulate

MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]


@pytest.mark.slow
def test_archive_parts_publish_what_whole_rewrites_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate(tmp_path / "sim", employers=150, months="2023-01..2023-06", seed=5, write_dsnp3=False)
    parts, whole = Warehouse(tmp_path / "parts"), Warehouse(tmp_path / "whole")
    for store in (parts, whole):
        ingest([tmp_path / "sim" / "dsn"], store, Secret(b"k" * 32, demo=False))
    for month in MONTHS:
        consolidate(parts, month, refresh_catalog=False)
        with monkeypatch.context() as m:
            m.setattr(archive, "MAX_PARTS", 1)  # every month receiving rows written again
            consolidate(whole, month, refresh_catalog=False)
        assert differing_tables(parts, whole, month) == [], month
    last = snapshot_dir(parts, MONTHS[-1])
    names = [p.stem for p in (last / "contrats_archives").glob("*.parquet")]
    # not vacuous: rows were settled into earlier months and brought back
    assert any("+" in n for n in names), names
    assert all(len([n for n in names if n[:7] == m]) < archive.MAX_PARTS for m in MONTHS)
    rewritten = snapshot_dir(whole, MONTHS[-1]) / "contrats_archives"
    assert not any("+" in p.stem for p in rewritten.glob("*.parquet"))
    withdrawn = [
        duckdb.sql(
            f"SELECT count(*) FROM '{snapshot_dir(parts, m) / 'contrats_retraits.parquet'}'"
        ).fetchall()[0][0]
        for m in MONTHS
    ]
    assert max(withdrawn) > 0, withdrawn
