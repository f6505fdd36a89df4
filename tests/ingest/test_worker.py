"""Helper processes parse a chunk exactly as the command's own process does."""

from __future__ import annotations

import duckdb
import pytest

from datadsn.ingest.run import process_chunk
from datadsn.ingest.sources import SourceRef, expand
from datadsn.ingest.worker import Worker, WorkerError
from datadsn.simulate import simulate


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
    local = process_chunk(refs, str(tmp_path / "local"), "lot", 0, secret)
    remote = helper.run((refs, str(tmp_path / "remote"), "lot", 0, secret))
    assert remote == local and remote.lines_read > 1000
    for table in ("individu", "contrat", "remuneration"):
        assert _rows(tmp_path / "remote", table) == _rows(tmp_path / "local", table)
    assert helper.peak_kib > 10_000  # the helper reports its own peak memory (KiB)


def test_an_error_in_a_helper_reaches_the_parent_and_the_helper_goes_on(tmp_path, secret, helper):
    missing = SourceRef(str(tmp_path / "absent.dsn"), None, 10)
    with pytest.raises(FileNotFoundError, match=r"absent\.dsn"):
        helper.run(([missing], str(tmp_path / "wh"), "lot", 0, secret))
    sim = simulate(tmp_path / "sim", employers=2, months="2024-01..2024-01", seed=4, noise="none")
    result = helper.run((expand([sim.out / "dsn"]), str(tmp_path / "wh"), "lot", 1, secret))
    assert result.lines_read == result.lines_stored > 0


def test_a_helper_that_dies_is_a_clear_error(tmp_path, secret, helper):
    helper.process.kill()
    helper.process.wait()
    with pytest.raises(WorkerError, match="processus auxiliaire"):
        helper.run(([], str(tmp_path / "wh"), "lot", 0, secret))
