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


def test_an_archive_file_of_an_older_version_reads_a_newer_column_as_null(
    tmp_path: Path,
) -> None:
    """A column added to contracts after some archive files were written: the run after the
    upgrade reads those files by column name (the new column NULL for their rows), as it reads
    an older working file and the employees' archive, instead of failing on a binder error."""
    from datadsn.quality.history import ARCHIVES, part_files
    from tests.quality.scenario import Contrat, Salarie, Scenario, declaration

    sc = Scenario(tmp_path)
    ended = Salarie(contrats=[Contrat(fin=("2023-01-20", "031")), Contrat(numero="C0002")])
    sc.run("2023-01", declaration("2023-01", salaries=[ended]))
    (older,) = part_files(snapshot_dir(sc.store, "2023-01"), ARCHIVES["contrats"]).values()
    newest = "version_declaration"  # as if the column came with the upgrade
    rewritten = older.with_name("older.parquet")
    duckdb.sql(f"COPY (SELECT * EXCLUDE ({newest}) FROM read_parquet('{older}')) TO '{rewritten}'")
    rewritten.replace(older.resolve())  # the snapshot's own file (published versions are links)
    later = Salarie(contrats=[Contrat(numero="C0002")])
    sc.run("2023-02", declaration("2023-02", salaries=[later]))
    rows = sc.rows(f"SELECT contrat_key, {newest} IS NULL FROM contrats ORDER BY 1")
    assert rows == [("C0001_2022-01-01", True), ("C0002_2022-01-01", False)]
