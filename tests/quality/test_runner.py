"""The portable-SQL contract: every step is one SELECT that SQLGlot turns into Spark SQL."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.runner import (
    Step,
    StepError,
    _strip_comments,
    check_portable,
    load_step,
    run_step,
    table_from_lists,
    to_spark,
)
from datadsn.engine.schedule import tables_read
from datadsn.quality.consolidate import SQL, pipeline
from datadsn.quality.inputs import RAW_COLUMNS, SHARED
from datadsn.quality.steps import STEPS as PYTHON_STEPS

STEPS = [(m.layer, name) for name, m in pipeline().models.items()]


@pytest.mark.parametrize(("layer", "name"), STEPS, ids=[n for _, n in STEPS])
def test_every_step_transpiles_to_spark(layer: str, name: str) -> None:
    step = load_step(SQL, layer, name)
    assert check_portable(step.sql) == []
    spark = to_spark(step.sql)
    assert spark.upper().startswith(("SELECT", "WITH"))


def test_every_sql_file_is_in_the_pipeline() -> None:
    files = {(p.parent.name, p.stem) for p in SQL.glob("*/*.sql")}
    assert files == set(STEPS)
    assert set(pipeline().order) == {n for _, n in STEPS} | set(PYTHON_STEPS.steps)


def test_layers_read_only_the_layer_before() -> None:
    """Staging reads raw inputs, marts and publication never read staging."""
    for layer, name in STEPS:
        sql = load_step(SQL, layer, name).sql
        if layer == "staging":
            assert "int_" not in sql and "prev_" not in sql
        if layer in ("marts", "publication"):
            assert "stg_" not in sql


def test_non_portable_constructs_are_reported() -> None:
    assert check_portable("with recursive t as (select 1) select * from t")
    assert check_portable("merge into t using s on t.a = s.a when matched then delete")
    assert check_portable("select 1 -- with recursive in a comment is fine") == []


def test_run_step_materialises_and_names_failures(tmp_path) -> None:
    con = DuckDBBackend(duckdb.connect())
    good = tmp_path / "l" / "t_ok.sql"
    good.parent.mkdir()
    good.write_text("select 1 as a union all select 2")
    run_step(con, Step("t_ok", "l", good))
    assert con.rows("SELECT count(*) FROM t_ok") == [(2,)]
    bad = tmp_path / "l" / "t_ko.sql"
    bad.write_text("select * from absent")
    with pytest.raises(StepError, match="l/t_ko"):
        run_step(con, Step("t_ko", "l", bad))


def test_every_step_of_the_consolidation_comes_after_what_it_reads() -> None:
    steps = pipeline()
    order = list(steps.order)
    for name, needs in steps.depends.items():
        assert all(order.index(n) < order.index(name) for n in needs)
    # a Python step waits for the tables it declares, and what reads its output waits for it
    assert steps.depends["int_fusions_salaries"] == {"int_aretes_salaries"}
    assert "int_fusions_salaries" in steps.depends["int_remap_salaries"]
    assert "contrats" in steps.depends["contrats_reglees"]


def test_table_from_lists_keeps_rows_aligned_and_typed() -> None:
    con = duckdb.connect()
    db = DuckDBBackend(con)
    cols = {"chemin": ("VARCHAR", ["a/b.parquet", "c d.parquet"]), "octets": ("BIGINT", [3, 40])}
    table_from_lists(db, "t", cols)
    assert con.execute("SELECT * FROM t ORDER BY octets").fetchall() == [
        ("a/b.parquet", 3),
        ("c d.parquet", 40),
    ]
    table_from_lists(db, "t", {"chemin": ("VARCHAR", []), "octets": ("BIGINT", [])})
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert [r[1] for r in con.execute("DESCRIBE t").fetchall()] == ["VARCHAR", "BIGINT"]
    nulls = {"d": ("DATE", [dt.date(2023, 1, 1), None]), "s": ("VARCHAR", ["", None])}
    table_from_lists(db, "t", nulls)
    assert sorted(con.execute("SELECT * FROM t").fetchall(), key=str) == [
        (None, None),
        (dt.date(2023, 1, 1), ""),
    ]
    # any text travels (an Arrow string), control characters included
    table_from_lists(db, "t", {"chemin": ("VARCHAR", ["a\nb", "\x01"])})
    assert sorted(con.execute("SELECT chemin FROM t").fetchall()) == [("\x01",), ("a\nb",)]
    assert con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't_texte'"
    ).fetchall() == [(0,)]


def test_raw_inputs_are_views_exactly_where_one_step_reads_them() -> None:
    """A raw input read by one staging step is a view over its files (inputs.SHARED lists the
    others, loaded once as tables): a view read by several steps would be read again by each."""
    readers: dict[str, list[str]] = {f"raw_{t}": [] for t in RAW_COLUMNS}
    for name, model in pipeline().models.items():
        for table in tables_read(model.step.sql) & set(readers):
            readers[table].append(name)
            sql = _strip_comments(model.step.sql)
            assert len(re.findall(rf"\b{table}\b", sql)) == 1, (name, table)
    for table in RAW_COLUMNS:
        assert (len(readers[f"raw_{table}"]) > 1) == (table in SHARED), (table, readers)
