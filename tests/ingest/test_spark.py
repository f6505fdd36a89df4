"""Ingestion on Spark: the same raw tables, rejections and counts as the local ingestion, tasks
that can be retried without adding rows, and a key that never travels with the tasks.

The Spark runs are real ``datadsn ingest --engine spark --master local[...]`` commands: in local
mode the executors' Python workers inherit the environment the command starts with, the
key included, as the worker processes of a cluster do (docs/spark.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import duckdb
import pytest

from datadsn.engine import faults
from datadsn.engine.lots import LotVersion
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest import spark as on_spark
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ChunkResult, ingest, process_chunk
from datadsn.ingest.sources import expand
from datadsn.simulate import simulate

KEY = "spark-test-key-of-at-least-32-bytes-0123456789"
OTHER_KEY = "another-key-of-at-least-32-bytes-9876543210"
# What must be equal between the engines (the rest is timing, memory, paths, cleaning).
COUNTS = [
    "lot",
    "bytes",
    "files",
    "declarations",
    "declarations_rejected",
    "lines_read",
    "lines_stored",
    "lines_rejected",
    "encodings",
    "versions",
    "rows",
    "rejections",
    "warnings",
    "declarations_duplicated",
    "lines_duplicated",
    "reconciled",
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """About 9 MB of noisy simulated DSN (three chunks on two cores: the run is spread over
    several tasks), with malformed lines, files sent twice, and an unreadable archive."""
    root = tmp_path_factory.mktemp("entrees")
    sim = simulate(root / "sim", employers=110, months="2023-01..2023-04", seed=7, noise="heavy")
    broken = root / "abime"
    broken.mkdir()
    (broken / "vide.dsn.gz").write_bytes(b"")
    return [sim.out / "dsn", broken]


@pytest.fixture(scope="module")
def local(inputs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The local ingestion of the inputs: (warehouse root, summary)."""
    store = Warehouse(tmp_path_factory.mktemp("local") / "entrepot")
    summary = ingest(inputs, store, Secret(KEY.encode(), demo=False), workers=1)
    return store.root, summary.to_json()


def _ingest_on_spark(
    inputs: list[Path], root: Path, master: str, **env: str
) -> subprocess.CompletedProcess[str]:
    summary = root.parent / f"{root.name}-bilan.json"
    summary.unlink(missing_ok=True)
    command = [sys.executable, "-m", "datadsn.cli", "ingest", *map(str, inputs), "-w", str(root)]
    command += ["--engine", "spark", "--master", master, "--summary", str(summary)]
    environment = {**os.environ, "DATADSN_SECRET": KEY, **env}
    environment.pop("DATADSN_SECRET_FILE", None)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


def _summary(root: Path) -> dict:
    return json.loads((root.parent / f"{root.name}-bilan.json").read_text(encoding="utf-8"))


def _tables(root: Path) -> dict[str, list[str]]:
    """Every view of the raw catalogue (tables, rejections, files), its rows sorted."""
    store = Warehouse(root)
    store.refresh_catalog()
    with duckdb.connect(str(store.catalog), read_only=True) as con:
        views = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'raw' AND NOT internal"
        ).fetchall()
        return {
            view: sorted(map(repr, con.execute(f'SELECT * FROM raw."{view}"').fetchall()))
            for (view,) in views
        }


def _assert_same_as_local(root: Path, local: tuple[Path, dict]) -> None:
    expected, theirs = _tables(local[0]), _tables(root)
    assert sorted(theirs) == sorted(expected)
    differ = [view for view in expected if expected[view] != theirs[view]]
    assert differ == []
    mine = _summary(root)
    assert {k: mine[k] for k in COUNTS} == {k: local[1][k] for k in COUNTS}


@pytest.fixture(scope="module")
def on_spark_root(
    inputs: list[Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("spark") / "entrepot"
    return root, _ingest_on_spark(inputs, root, "local[2]")


@pytest.mark.spark
def test_spark_stores_the_same_raw_tables_rejections_and_counts(on_spark_root, local) -> None:
    root, run = on_spark_root
    assert run.returncode == 3, run.stderr[-2000:]  # part of the input rejected, as locally
    _assert_same_as_local(root, local)
    expected = _tables(local[0])
    # the comparison saw rejected lines, an unreadable file, declarations sent twice
    assert any("ARCHIVE_INVALIDE" in row for row in expected["rejections"])
    assert local[1]["lines_rejected"] > 0 and local[1]["declarations_duplicated"] > 0
    # spread over several tasks: one part (file name) per task in the files' table folder
    parts = {p.name.rsplit("-", 1)[1] for p in (root / "fichiers").glob("*.parquet")}
    assert len(parts) >= 3


@pytest.mark.spark
def test_retried_tasks_and_a_rerun_add_no_rows(inputs, on_spark_root, local) -> None:
    """Every task dies once after writing its files; Spark runs it again (``local[2,2]``: two
    attempts per task), over the lot the first run committed."""
    root, _ = on_spark_root
    run = _ingest_on_spark(inputs, root, "local[2,2]", **{faults.ENV: on_spark.RETRIED_FAULT})
    assert run.returncode == 3, run.stderr[-2000:]
    _assert_same_as_local(root, local)
    assert _summary(root)["leftovers_removed"] > 0  # the first run's files, replaced


@pytest.mark.spark
def test_a_task_that_dies_without_retry_commits_nothing(inputs, tmp_path) -> None:
    """The control of the test above: with one attempt per task, the fault stops the run with
    a French message and no lot is served."""
    root = tmp_path / "entrepot"
    run = _ingest_on_spark(inputs, root, "local[2]", **{faults.ENV: on_spark.RETRIED_FAULT})
    assert run.returncode == 1
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("Erreur : une tâche Spark d'ingestion a échoué : Python worker")
    assert Warehouse(root).committed() == {}
    assert list((root / "fichiers").glob("*.parquet"))  # written, never served


# --- the key on the executors (no Spark session needed) ------------------------------------


@pytest.fixture
def task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, on_spark.SparkTask]:
    # what an executor sets for itself, undone after the test (this process is no executor)
    monkeypatch.setenv("POLARS_MAX_THREADS", os.environ.get("POLARS_MAX_THREADS", "1"))
    sim = simulate(tmp_path / "sim", employers=2, months="2024-01..2024-01", seed=1, noise="none")
    root = str(tmp_path / "entrepot")
    return 0, (expand([sim.out / "dsn"]), root, LotVersion("abcdef012345", "0123456789"), 0)


def _answers(secret: Secret, task: tuple[int, on_spark.SparkTask]) -> list[on_spark.Answer]:
    return list(on_spark.task_function(secret)(iter([task])))


def test_what_spark_ships_to_the_executors_holds_no_key(task) -> None:
    from pyspark import cloudpickle

    secret = Secret(KEY.encode(), demo=False)
    shipped = cloudpickle.dumps((on_spark.task_function(secret), task))
    assert KEY.encode() not in shipped and KEY.encode().hex().encode() not in shipped
    assert KEY not in repr(secret)
    # what Spark Connect ships: the Arrow function, the tasks inside it
    arrow = partial(on_spark.arrow_tasks, on_spark.task_function(secret), dict([task]))
    shipped = cloudpickle.dumps(arrow)
    assert KEY.encode() not in shipped and KEY.encode().hex().encode() not in shipped


def test_the_arrow_dispatch_answers_as_the_partitions_one(task, monkeypatch) -> None:
    """Spark Connect's tasks (``mapInArrow`` over the ids of a ``range``) run the same parse
    and give the same answers, as an Arrow batch."""
    import pyarrow as pa

    monkeypatch.setenv("DATADSN_SECRET", KEY)
    secret = Secret(KEY.encode(), demo=False)
    ids = iter([pa.RecordBatch.from_pydict({"id": [task[0]]})])
    (batch,) = on_spark.arrow_tasks(on_spark.task_function(secret), dict([task]), ids)
    (part, counts, error) = _answers(secret, task)[0]
    assert batch.to_pylist() == [{"part": part, "counts": counts, "error": error}]
    assert error is None and json.loads(counts)["lines_stored"] > 0


def test_an_executor_without_the_key_stops_the_run(task, monkeypatch) -> None:
    monkeypatch.delenv("DATADSN_SECRET", raising=False)
    monkeypatch.delenv("DATADSN_SECRET_FILE", raising=False)
    ((part, counts, error),) = _answers(Secret(KEY.encode(), demo=False), task)
    assert (part, counts) == (0, "")
    assert error is not None and error.startswith("exécuteur Spark sur ")
    assert "aucune clé de pseudonymisation" in error and "DATADSN_SECRET_FILE" in error
    assert not Path(task[1][1]).exists()  # nothing parsed, nothing written


def test_an_executor_with_another_key_stops_the_run(task, monkeypatch) -> None:
    monkeypatch.setenv("DATADSN_SECRET", OTHER_KEY)
    ((_, _, error),) = _answers(Secret(KEY.encode(), demo=False), task)
    assert error is not None and "n'est pas celle du pilote" in error
    assert OTHER_KEY not in error and KEY not in error


def test_an_executor_reads_the_key_from_its_file(task, tmp_path, monkeypatch) -> None:
    key_file = tmp_path / "cle"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("DATADSN_SECRET", raising=False)
    monkeypatch.setenv("DATADSN_SECRET_FILE", str(key_file))
    secret = Secret(KEY.encode(), demo=False)
    ((_, counts, error),) = _answers(secret, task)
    assert error is None
    again = tmp_path / "ailleurs"  # the same chunk parsed locally, in another warehouse
    files, _, lot, number = task[1]
    expected = process_chunk(files, str(again), lot, number, secret)
    assert ChunkResult(**json.loads(counts)).lines_stored == expected.lines_stored > 0
    assert json.loads(counts) == json.loads(on_spark._encode(expected))


def test_the_command_refuses_workers_and_unknown_engines_before_writing(inputs, tmp_path) -> None:
    from typer.testing import CliRunner

    from datadsn.cli import app

    root = tmp_path / "entrepot"
    env = {"DATADSN_SECRET": KEY}
    for args, message in [
        (["--engine", "spark", "--workers", "2"], "--workers ne vaut pas pour le moteur spark"),
        (["--engine", "ray"], "moteur inconnu : ray"),
    ]:
        run = CliRunner().invoke(app, ["ingest", str(inputs[1]), "-w", str(root), *args], env=env)
        assert run.exit_code == 2 and message in run.output
    by_env = {**env, "DATADSN_ENGINE": "spark"}
    run = CliRunner().invoke(
        app, ["ingest", str(inputs[1]), "-w", str(root), "--workers", "2"], env=by_env
    )
    assert run.exit_code == 2 and "--workers ne vaut pas pour le moteur spark" in run.output
    assert not root.exists()
