"""Simulated DSN through the ingester: clean data stores every line, noise is caught exactly."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.run import ingest
from datadsn.simulate import simulate


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> tuple[Path, Warehouse, object]:
    root = tmp_path_factory.mktemp("noisy")
    sim = simulate(root / "sim", employers=60, months="2023-01..2023-06", seed=11, noise="heavy")
    warehouse = Warehouse(root / "wh")
    from datadsn.ingest.pseudonymize import Secret

    summary = ingest([sim.out / "dsn"], warehouse, Secret(b"k", demo=True), workers=1)
    return sim.out, warehouse, summary


def test_clean_simulation_stores_every_line(tmp_path, secret):
    sim = simulate(tmp_path / "sim", employers=40, months="2024-01..2024-03", seed=3, noise="none")
    summary = ingest([sim.out / "dsn"], Warehouse(tmp_path / "wh"), secret, workers=1)
    assert summary.files == sim.files and summary.lines_read == sim.lines
    assert summary.lines_rejected == 0 and summary.rejections == {}
    assert summary.warnings == {}
    assert summary.declarations == sim.declarations


def test_noise_rejections_are_exactly_the_injected_line_defects(noisy):
    out, warehouse, summary = noisy
    anomalies = pl.read_parquet(out / "truth" / "anomalies.parquet")
    injected = anomalies.filter(pl.col("type").is_in(["malformed_line", "unknown_code"]))
    assert injected.height > 0
    expected = {
        (str((out / f).resolve()), int(line))
        for f, line in injected.select("file", "line").iter_rows()
    }
    with warehouse.connect() as con:
        rejected = con.execute(
            "select fichier, ligne, code from raw.rejections where rejet"
        ).fetchall()
    found = {(str(Path(f).resolve()), int(line)) for f, line, _ in rejected}
    assert found == expected
    assert summary.reconciled
    assert summary.declarations_rejected == 0


def test_files_sent_twice_are_stored_once(noisy):
    """The simulator sends some files twice under another name: each copy's declaration is
    reported where it is stored already, and none of its rows is stored again."""
    out, warehouse, summary = noisy
    anomalies = pl.read_parquet(out / "truth" / "anomalies.parquet")
    copies = anomalies.filter(pl.col("type") == "duplicate_declaration")
    assert copies.height > 0
    with warehouse.connect() as con:
        reported = con.execute(
            "select fichier, valeur from raw.rejections where code = 'DECLARATION_EN_DOUBLE'"
        ).fetchall()
        stored = con.execute(
            "select count(*) from raw.contrat where fichier like '%_doublon.dsn'"
        ).fetchone()
    assert {str(Path(f).resolve()) for f, _ in reported} == {
        str((out / f).resolve()) for f in copies["file"]
    }
    for copy, where in reported:  # the original, stored under its own name
        assert Path(where.split(" ligne ")[0]).name == Path(copy).name.replace("_doublon", "")
    assert stored == (0,)
    assert summary.declarations_duplicated == copies.height
    assert summary.lines_duplicated > 0 and summary.reconciled


@pytest.mark.parametrize("helpers", ["threads", "processes"])
def test_parallel_chunks_give_the_same_warehouse(tmp_path, secret, monkeypatch, helpers):
    import datadsn.ingest.run as run

    sim = simulate(tmp_path / "sim", employers=30, months="2024-01..2024-02", seed=5, noise="heavy")
    single = ingest([sim.out / "dsn"], Warehouse(tmp_path / "one"), secret, workers=1)
    monkeypatch.setattr(run, "MIN_CHUNK_BYTES", 50_000)
    monkeypatch.setattr(run, "CHUNK_BYTES", 200_000)
    monkeypatch.setattr(run, "PROCESS_MIN_BYTES", 0 if helpers == "processes" else 1 << 62)
    parallel = ingest([sim.out / "dsn"], Warehouse(tmp_path / "two"), secret, workers=2)
    assert parallel.rows == single.rows and parallel.rejections == single.rejections
    assert parallel.lines_stored == single.lines_stored
    assert len(list((tmp_path / "two" / "rejections").glob("*.parquet"))) > 1
    query = "select * from raw.contrat order by fichier, ligne"
    with Warehouse(tmp_path / "one").connect() as a, Warehouse(tmp_path / "two").connect() as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
