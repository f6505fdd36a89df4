"""Helper processes parse a chunk exactly as the command's own process does."""

from __future__ import annotations

import sys

import duckdb
import pytest

from datadsn.engine.lots import LotVersion
from datadsn.ingest.run import process_chunk
from datadsn.ingest.sources import SourceRef, expand
from datadsn.ingest.worker import Worker, WorkerError
from datadsn.simulate import simulate

LOT = LotVersion("lot", "v1")


@pytest.fixture()
def helper():
    worker = Worker()
    worker.wait_ready()
    yield worker
    worker.close()


def _rows(root, table: str) -> list[tuple]:
    files = f"{root}/raw/{table}/*/*.parquet"
    query = f"select * exclude (fichier) from read_parquet('{files}') order by all"
    return duckdb.sql(query).fetchall()


def test_a_helper_process_writes_what_the_parent_writes(tmp_path, secret, helper):
    sim = simulate(tmp_path / "sim", employers=8, months="2024-01..2024-01", seed=2, noise="heavy")
    refs = expand([sim.out / "dsn"])
    local = process_chunk(refs, str(tmp_path / "local"), LOT, 0, secret)
    remote = helper.run((refs, str(tmp_path / "remote"), LOT, 0, secret))
    assert remote == local and remote.lines_read > 1000
    for table in ("individu", "contrat", "remuneration"):
        assert _rows(tmp_path / "remote", table) == _rows(tmp_path / "local", table)
    assert helper.peak_kib > 10_000  # the helper reports its own peak memory (KiB)


def test_an_error_in_a_helper_reaches_the_parent_and_the_helper_goes_on(tmp_path, secret, helper):
    # a file that vanished is a rejection; a warehouse that cannot be written is an error
    vanished = SourceRef(str(tmp_path / "absent.dsn"), None, 10)
    result = helper.run(([vanished], str(tmp_path / "wh"), LOT, 0, secret))
    assert result.rejections == {"FICHIER_INACCESSIBLE": 1}
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(OSError, match="not-a-folder"):
        helper.run(([vanished], str(tmp_path / "not-a-folder" / "wh"), LOT, 0, secret))
    sim = simulate(tmp_path / "sim", employers=2, months="2024-01..2024-01", seed=4, noise="none")
    result = helper.run((expand([sim.out / "dsn"]), str(tmp_path / "wh"), LOT, 1, secret))
    assert result.lines_read == result.lines_stored > 0


def test_a_helper_that_dies_is_a_clear_error(tmp_path, secret, helper):
    helper.process.kill()
    helper.process.wait()
    with pytest.raises(WorkerError, match="processus auxiliaire"):
        helper.run(([], str(tmp_path / "wh"), LOT, 0, secret))


def test_ingest_of_a_large_batch_starts_its_helpers_before_the_imports(tmp_path, monkeypatch):
    from datadsn.ingest import worker

    data = tmp_path / "depot"
    data.mkdir()
    (data / "a.dsn").write_bytes(b"x" * 2000)
    warehouse = tmp_path / "entrepot"  # an option's value, not an input
    warehouse.mkdir()
    (warehouse / "big.parquet").write_bytes(b"x" * 5000)
    monkeypatch.setattr(worker, "PROCESS_MIN_BYTES", 1000)

    def started(argv: list[str]) -> int:
        worker.prestart(argv)
        helpers = worker.take_prestarted()
        for helper in helpers:
            helper.close(kill=True)
        return len(helpers)

    assert started(["datadsn", "ingest", str(data), "-w", str(warehouse), "--workers", "3"]) == 2
    assert started(["datadsn", "ingest", "--demo", str(data)]) >= 1  # one per other core
    assert started(["datadsn", "ingest", str(data), "--workers", "1"]) == 0
    assert started(["datadsn", "ingest", "--warehouse", str(warehouse)]) == 0
    assert started(["datadsn", "sql", str(data)]) == 0
    # Spark's executors parse the chunks: no helper, whichever way the engine is named
    assert started(["datadsn", "ingest", str(data), "--workers", "3", "--engine", "spark"]) == 0
    assert started(["datadsn", "ingest", "--engine=spark", str(data), "--workers", "3"]) == 0
    monkeypatch.setenv("DATADSN_ENGINE", "spark")
    assert started(["datadsn", "ingest", str(data), "--workers", "3"]) == 0
    assert started(["datadsn", "ingest", str(data), "--workers", "3", "--engine", "duckdb"]) == 2
    monkeypatch.delenv("DATADSN_ENGINE")
    monkeypatch.setattr(worker, "PROCESS_MIN_BYTES", 3000)
    summary = str(warehouse / "big.parquet")
    assert started(["datadsn", "ingest", str(data), "--summary", summary]) == 0


def test_helpers_started_for_nothing_are_stopped(tmp_path, secret, monkeypatch):
    from datadsn.engine.warehouse import Warehouse
    from datadsn.ingest import worker
    from datadsn.ingest.run import ingest

    sim = simulate(tmp_path / "sim", employers=3, months="2024-01..2024-01", seed=2, noise="none")
    monkeypatch.setattr(worker, "PROCESS_MIN_BYTES", 1)
    worker.prestart(["datadsn", "ingest", str(sim.out / "dsn"), "--workers", "2"])
    helpers = list(worker._prestarted)
    assert len(helpers) == 1
    summary = ingest([sim.out / "dsn"], Warehouse(tmp_path / "wh"), secret, workers=2)
    assert summary.lines_read == summary.lines_stored > 0
    assert helpers[0].process.poll() is not None  # a small batch: threads, the helper stopped
    assert worker.take_prestarted() == []


def test_a_helper_that_cannot_start_leaves_the_chunks_to_the_others(tmp_path, secret, monkeypatch):
    import datadsn.ingest.run as run
    from datadsn.engine.warehouse import Warehouse

    sim = simulate(tmp_path / "sim", employers=6, months="2024-01..2024-01", seed=3, noise="none")
    monkeypatch.setattr(run, "MIN_CHUNK_BYTES", 20_000)
    monkeypatch.setattr(run, "CHUNK_BYTES", 50_000)
    monkeypatch.setattr(run, "PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(Worker, "command", (sys.executable, "-c", "raise SystemExit(4)"))
    with pytest.warns(UserWarning, match="processus auxiliaire"):
        summary = run.ingest([sim.out / "dsn"], Warehouse(tmp_path / "wh"), secret, workers=2)
    assert summary.lines_read == summary.lines_stored == sim.lines
