"""Profiled plans of a run's steps (engine/plans.py) and the delim joins they reveal."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.cli.common import console
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.plans import profiled, read, read_all
from datadsn.quality.consolidate import consolidate, pipeline
from tests.quality.scenario import Scenario, declaration

TABLES = (
    "CREATE TABLE archive AS SELECT i AS id, i % 97 AS cle FROM range(20000) t(i); "
    "CREATE TABLE retires AS SELECT i AS id FROM range(0, 20000, 7) t(i)"
)
CORRELATED = (
    "CREATE TABLE restants AS SELECT * FROM archive a "
    "WHERE NOT EXISTS (SELECT 1 FROM retires r WHERE r.id = a.id AND a.cle > 3)"
)
JOINED = (
    "CREATE TABLE restants AS SELECT a.* FROM archive a "
    "LEFT JOIN retires r ON r.id = a.id AND a.cle > 3 WHERE r.id IS NULL"
)


@pytest.mark.parametrize(("sql", "delim"), [(CORRELATED, True), (JOINED, False)])
def test_a_correlated_filter_shows_as_a_delim_join_over_its_outer_rows(
    tmp_path: Path, sql: str, delim: bool
) -> None:
    con = duckdb.connect()
    con.execute(TABLES)
    with profiled(DuckDBBackend(con), tmp_path / "restants.json"):
        con.execute(sql)
    plan = read(tmp_path / "restants.json")
    assert plan.step == "restants" and plan.seconds > 0 and plan.heaviest is not None
    assert bool(plan.delim_joins) == delim
    if delim:
        assert plan.delim_joins[0].rows == 20000  # every archived row goes through it
    rows = con.execute("SELECT count(*) FROM restants").fetchone()
    assert rows is not None and rows[0] > 0
    # profiling is off again once the step is done: the next statement leaves the file alone
    written = (tmp_path / "restants.json").read_text()
    con.execute("CREATE TABLE apres AS SELECT 1")
    assert (tmp_path / "restants.json").read_text() == written


def test_a_run_writes_the_plan_of_each_table_step(tmp_path: Path) -> None:
    sc = Scenario(tmp_path / "w")
    sc.ingest(declaration("2023-01"))
    consolidate(sc.store, "2023-01", plans=tmp_path / "plans")
    tables = {name for name, m in pipeline().models.items() if m.kind == "table"}
    assert {p.stem for p in (tmp_path / "plans").glob("*.json")} == tables
    assert read(tmp_path / "plans" / "contrats.json").heaviest is not None


def test_consolidate_plans_prints_the_heaviest_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "_width", 200)  # no step name folded in its cell (restored after)
    sc = Scenario(tmp_path / "w")
    sc.ingest(declaration("2023-01"))
    runner = CliRunner()
    args = ["consolidate", "--month", "2023-01", "-w", str(sc.store.root)]
    result = runner.invoke(app, [*args, "--plans", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    shown = [plan.step for plan in read_all(tmp_path / "p" / "2023-01")[:15]]
    # which steps are the heaviest depends on timing: those of the written plans
    assert "Plans profilés" in result.output and all(step in result.output for step in shown)
    assert (tmp_path / "p" / "2023-01" / "int_contrats_charges.json").exists()
    refused = runner.invoke(app, [*args, "--plans", str(tmp_path / "q"), "--engine", "spark"])
    assert refused.exit_code == 2 and "DuckDB" in refused.output
