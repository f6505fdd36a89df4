"""What the mart headers declare holds for what a run publishes: keys, columns, types, times."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datadsn.engine import models
from datadsn.engine.backends import Backend
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.warehouse import Warehouse
from datadsn.quality import archive, inputs, salaries_archive
from datadsn.quality import consolidate as consolidate_module
from datadsn.quality.carry import Carry
from datadsn.quality.consolidate import READ_AFTER_STEPS, consolidate, pipeline
from datadsn.quality.history import table_sql
from datadsn.quality.schema import PUBLISHED
from datadsn.quality.snapshot import published_months, snapshot_dir
from tests.economy import consolidated_economy
from tests.quality.scenario import Scenario, declaration

# (month, model) -> (rows, distinct keys, rows with a null in the key) of each model declaring a
# key, counted in the run's own table as soon as the step has built it (a run drops its tables
# once no step reads them)
IN_RUN: dict[tuple[str, str], tuple[int, int, int]] = {}
# month -> the tables of the run's database when publication starts
AT_PUBLICATION: dict[str, set[str]] = {}


@pytest.fixture(scope="module")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Four months of a small economy with every kind of noise (merges, interim, late files)."""
    root = tmp_path_factory.mktemp("economie")
    run_model = models.Model.run
    write = consolidate_module._write_snapshot

    def count_keys(model: models.Model, db: Backend) -> None:
        run_model(model, db)
        if model.key:
            (month,) = db.rows("SELECT strftime(mois, '%Y-%m') FROM run_params")[0]
            IN_RUN[(month, model.name)] = _key_counts(db, model.name, model.key)

    def list_tables(db: Backend, tmp: Path, carry: Carry, *rest: Any) -> None:
        rows = db.rows("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
        AT_PUBLICATION[carry.month] = {r[0] for r in rows}
        write(db, tmp, carry, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models.Model, "run", count_keys)
        patch.setattr(consolidate_module, "_write_snapshot", list_tables)
        return consolidated_economy(
            root, employers=12, months=("2023-01", "2023-04"), seed=3, noise="heavy"
        )


def _key_counts(db: Backend, source: str, key: tuple[str, ...]) -> tuple[int, int, int]:
    nulls = " OR ".join(f"{c} IS NULL" for c in key)
    (row,) = db.rows(
        f"SELECT count(*), count(DISTINCT ({', '.join(key)})), count(*) FILTER ({nulls}) "
        f"FROM {source}"
    )
    return (row[0], row[1], row[2])


def test_each_declared_key_is_unique_and_never_null_in_every_run(economy: Warehouse) -> None:
    """Every model declaring a key (marts, and the others that do), in the run's tables."""
    assert len({month for month, _ in IN_RUN}) == 4
    declared = {n for n, m in pipeline().models.items() if m.key}
    assert {name for _, name in IN_RUN} == declared and "contrats_reglees" in declared
    for (month, name), (rows, distinct, with_null) in IN_RUN.items():
        assert (distinct, with_null) == (rows, 0), (month, name, rows)


def test_a_run_drops_the_tables_no_step_reads_any_more(economy: Warehouse) -> None:
    """The steps' tables go once their last reader has finished (engine/release.py); what the
    publication reads stays."""
    tables = {n for n, m in pipeline().models.items() if m.kind == "table"}
    published = {t for t in PUBLISHED if t in tables}
    assert set(AT_PUBLICATION) == {"2023-01", "2023-02", "2023-03", "2023-04"}
    for month, present in AT_PUBLICATION.items():
        assert published | READ_AFTER_STEPS <= present, month
        gone = {"stg_contrats", "int_contrats_charges", "int_liens_contrats", "prev_contrats"}
        assert not gone & present, (month, gone & present)
        assert len(tables & present) < len(tables) / 2, month


def test_the_code_after_the_steps_names_only_the_tables_a_run_keeps() -> None:
    """A table the publication reads must be in READ_AFTER_STEPS (or published), else a run
    would have dropped it: the names in the source of the code that runs after the steps."""
    after = [
        consolidate_module._run,
        consolidate_module._totals,
        consolidate_module._write_snapshot,
        archive.publish,
        salaries_archive.publish,
        Carry.publish,
        inputs.write_seen,
    ]
    droppable = consolidate_module._releases(pipeline())._droppable
    named = set()
    for code in after:
        named |= set(re.findall(r"[a-z_][a-z0-9_]*", inspect.getsource(code))) & droppable
    assert named - set(PUBLISHED) == READ_AFTER_STEPS


def test_each_declared_key_is_unique_and_never_null_in_every_published_mart(
    economy: Warehouse,
) -> None:
    con = duckdb.connect()
    months = published_months(economy)
    assert len(months) == 4
    for month in months:
        for table, model in PUBLISHED.items():
            sql = table_sql(snapshot_dir(economy, month), table)
            assert sql is not None, (month, table)
            rows, distinct, with_null = _key_counts(DuckDBBackend(con), f"({sql})", model.key)
            assert (distinct, with_null) == (rows, 0), (month, table, rows)
    # the check has rows to look at: merges happened and contracts were published
    last = snapshot_dir(economy, months[-1])
    for table in ("fusions", "contrats", "activites"):
        assert con.execute(f"SELECT count(*) FROM ({table_sql(last, table)})").fetchone() != (0,)


def test_published_files_have_the_declared_columns_and_types(economy: Warehouse) -> None:
    """The header, not the engine's inference, decides the schema of every file written."""
    con = duckdb.connect()
    folder = snapshot_dir(economy, published_months(economy)[-1])
    files = sorted(folder.rglob("*.parquet"))
    checked = set()
    for path in files:
        table = path.stem if path.parent == folder else path.parent.name
        model = PUBLISHED.get(table) or PUBLISHED.get(table.removesuffix("_archives"))
        if model is None:  # bookkeeping files (declarations seen, withdrawn rows)
            continue
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        assert {c: t for c, t, *_ in described} == model.columns, path
        assert [c for c, *_ in described] == list(model.columns), path
        checked.add(model.name)
    assert checked == set(PUBLISHED)


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }


def test_run_times_come_from_the_run_clock_so_reruns_publish_identical_files(
    tmp_path: Path,
) -> None:
    sc = Scenario(tmp_path)
    sc.ingest(declaration("2023-01"))
    times = iter([dt.datetime(2024, 3, 1, 8, 0), dt.datetime(2024, 3, 1, 8, 5)] * 2)
    consolidate(sc.store, "2023-01", threads=1, clock=lambda: next(times))
    first = _files(snapshot_dir(sc.store, "2023-01"))
    (row,) = sc.table("chargements")
    assert (row["debut"], row["fin"]) == (
        dt.datetime(2024, 3, 1, 8, 0),
        dt.datetime(2024, 3, 1, 8, 5),
    )
    consolidate(sc.store, "2023-01", threads=1, clock=lambda: next(times))  # the same month again
    assert _files(snapshot_dir(sc.store, "2023-01")) == first


def test_a_bad_model_header_stops_the_command_with_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datadsn.cli import app
    from datadsn.engine import models
    from datadsn.quality import consolidate as module
    from datadsn.quality.steps import STEPS

    bad = tmp_path / "sql" / "marts" / "contrats.sql"
    bad.parent.mkdir(parents=True)
    bad.write_text("-- Contracts.\n-- @kind tableau\nselect 1 as a\n", encoding="utf-8")
    monkeypatch.setattr(module, "pipeline", lambda: models.load(tmp_path / "sql", STEPS))
    sc = Scenario(tmp_path)
    sc.ingest(declaration("2023-01"))
    result = CliRunner().invoke(
        app, ["consolidate", "--month", "2023-01", "-w", str(sc.store.root)]
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Erreur : {bad}:2 : en-tête de modèle invalide, @kind attend table ou view, "
        "trouvé 'tableau'"
    )


def test_a_mart_without_its_schema_is_refused(tmp_path: Path) -> None:
    from datadsn.engine.models import ModelError
    from datadsn.quality.schema import published

    mart = tmp_path / "marts" / "postes.sql"
    mart.parent.mkdir()
    mart.write_text("-- Job labels.\n-- @kind table\n-- @key poste_id\nselect 1 as poste_id\n")
    with pytest.raises(ModelError, match=r"postes\.sql:1 : .* déclare @key et ses @column"):
        published(tmp_path)
    mart.write_text(mart.read_text().replace("select", "-- @column poste_id INTEGER\nselect"))
    assert published(tmp_path)["postes"].columns == {"poste_id": "INTEGER"}
