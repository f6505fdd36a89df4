"""Steps run two at a time where their inputs allow, and never before the steps they read."""

from __future__ import annotations

import importlib
import threading
import time

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from datadsn.engine import schedule
from datadsn.engine.schedule import Task


def test_a_step_waits_for_the_earlier_steps_it_names() -> None:
    tasks = [
        Task("a", "select 1 as x"),
        Task("b", "select 2 as y"),
        Task("c", "with t as (select * from a) select * from t join prev_c using (x)"),
        Task("py", None, frozenset({"b"})),
        Task("barrier", None),
        Task("d", "select * from c, b"),
    ]
    assert schedule.dependencies(tasks) == {
        "a": set(),
        "b": set(),
        "c": {"a"},  # prev_c is not produced by the pipeline: an input, not a dependency
        "py": {"b"},
        "barrier": {"a", "b", "c", "py"},
        "d": {"b", "c"},
    }


def test_the_order_comes_from_what_each_step_reads() -> None:
    tasks = [
        Task("d", "select * from c, b"),
        Task("c", "with t as (select * from a) select * from t join prev_c using (x)"),
        Task("py", None, frozenset({"b"}), frozenset({"py", "py_side"})),
        Task("e", "select * from py_side"),
        Task("b", "select 2 as y"),
        Task("a", "select 1 as x"),
    ]
    order, needs = schedule.ordered(tasks)
    # the first step free to go, in the given order, goes first
    assert [t.name for t in order] == ["b", "py", "e", "a", "c", "d"]
    assert needs == {
        "a": set(),
        "b": set(),
        "c": {"a"},  # prev_c: an input of the run, not a step
        "py": {"b"},
        "e": {"py"},  # through the table the Python step declares it writes
        "d": {"b", "c"},
    }


def test_a_cycle_or_an_undeclared_python_step_is_an_error() -> None:
    cycle = [Task(n, f"select * from {r}") for n, r in (("a", "c"), ("b", "a"), ("c", "b"))]
    with pytest.raises(ValueError, match=r"circulaires : a -> c -> b -> a"):
        schedule.ordered(cycle)
    with pytest.raises(ValueError, match="py ne déclare pas"):
        schedule.ordered([Task("py", None)])
    with pytest.raises(ValueError, match="construite par a et par b"):
        schedule.ordered([Task(n, None, frozenset(), frozenset({"t"})) for n in ("a", "b")])


def _run(tasks: list[Task], work, workers: int = 2) -> None:
    con = duckdb.connect()
    schedule.run(con, tasks, work, schedule.dependencies(tasks), workers=workers)


def test_independent_steps_run_side_by_side_and_dependent_ones_after() -> None:
    both_running = threading.Barrier(2, timeout=10)
    ends: dict[str, float] = {}
    starts: dict[str, float] = {}

    def work(cur: duckdb.DuckDBPyConnection, task: Task) -> None:
        starts[task.name] = time.perf_counter()
        if task.name in ("a", "b"):
            both_running.wait()  # times out (BrokenBarrierError) if a and b ran one after other
        cur.execute(f"CREATE OR REPLACE TABLE {task.name} AS {task.sql}")
        ends[task.name] = time.perf_counter()

    tasks = [
        Task("a", "select 1 as x"),
        Task("b", "select 2 as x"),
        Task("c", "select * from a union all select * from b"),
    ]
    _run(tasks, work)
    assert starts["c"] >= max(ends["a"], ends["b"])


def test_one_worker_keeps_the_pipeline_order() -> None:
    order: list[str] = []

    def work(cur: duckdb.DuckDBPyConnection, task: Task) -> None:
        order.append(task.name)

    tasks = [Task(n, "select 1") for n in "abcd"]
    _run(tasks, work, workers=1)
    assert order == list("abcd")


def test_the_ready_step_with_the_longest_chain_after_it_starts_first() -> None:
    order: list[str] = []

    def work(cur: duckdb.DuckDBPyConnection, task: Task) -> None:
        order.append(task.name)
        cur.execute(f"CREATE OR REPLACE TABLE {task.name} AS {task.sql}")

    tasks = [
        Task("a", "select 1 as x"),  # nothing waits for it
        Task("b", "select 1 as x"),
        Task("c", "select * from b"),
        Task("d", "select * from c"),
    ]
    assert schedule.chain_lengths(tasks, schedule.dependencies(tasks)) == {
        "a": 1,
        "b": 3,
        "c": 2,
        "d": 1,
    }
    _run(tasks, work, workers=1)
    assert order == ["b", "c", "a", "d"]  # equal chains: the pipeline order


def test_a_failing_step_stops_the_steps_that_need_it() -> None:
    ran: list[str] = []

    def work(cur: duckdb.DuckDBPyConnection, task: Task) -> None:
        ran.append(task.name)
        cur.execute(f"CREATE OR REPLACE TABLE {task.name} AS {task.sql}")

    tasks = [Task("a", "select * from missing_table"), Task("b", "select * from a")]
    with pytest.raises(duckdb.CatalogException):
        _run(tasks, work)
    assert ran == ["a"]


def test_a_dependency_no_step_produces_is_an_error_not_a_hang() -> None:
    tasks = [Task("a", "select 1")]
    with pytest.raises(ValueError, match="jamais satisfaites"):
        schedule.run(duckdb.connect(), tasks, lambda cur, task: None, {"a": {"nowhere"}})


def test_each_runs_every_job_once_with_its_name() -> None:
    seen: list[str] = []
    schedule.each(duckdb.connect(), ["x", "y", "z"], lambda cur, name: seen.append(name))
    assert sorted(seen) == ["x", "y", "z"]


def test_tables_read_from_tokens_are_those_of_the_parse_tree() -> None:
    """The dependencies come from tokens (fast); the parse tree is the reference they must match
    on every step of the consolidation and on the shapes a step may take."""
    consolidate = importlib.import_module("datadsn.quality.consolidate")
    queries = [m.step.sql for m in consolidate.pipeline().models.values()]
    queries += [
        "select * from c, b",
        "select * from (select * from a) x, b as y where x.k in (select k from z)",
        "select 1 from s.b y cross join c left join (select 1 from d) e on true",
        "select * from a union all select * from b order by 1",
        "with a as (select * from t), b as (select * from a, u) select cast(k as int) from b",
        "with declarations as (select 1 as k) select * from declarations",
        'select * from "a b" -- déjà lu, from x\njoin c on true',
    ]
    for sql in queries:
        tree = sqlglot.parse_one(sql, read="duckdb")
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        tables = {t.name for t in tree.find_all(exp.Table)} - ctes
        assert schedule.tables_read(sql) == tables, sql
    shadow = "with declarations as (select * from brut) select * from declarations"
    assert schedule.tables_read(shadow) == {"brut"}
