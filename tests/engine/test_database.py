"""The process's pipeline database: reused by successive runs, left empty by each."""

import pytest

from datadsn.engine import database


def _tables(con) -> set[str]:  # type: ignore[no-untyped-def]
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()
    return {r[0] for r in rows}


def test_a_run_leaves_the_database_empty_even_when_it_fails() -> None:
    with database.run_connection() as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        with con.cursor() as step:  # the pipeline's steps run on cursors of the run's connection
            step.execute("CREATE VIEW v AS SELECT x FROM t")
        assert _tables(con) == {"t", "v"}
    with pytest.raises(RuntimeError), database.run_connection() as con:
        con.execute("CREATE TABLE u AS SELECT 2 AS y")
        raise RuntimeError("panne")
    with database.run_connection() as con:
        assert _tables(con) == set()
        con.execute("CREATE TABLE t AS SELECT 3 AS x")  # the name is free again
        assert con.execute("SELECT x FROM t").fetchall() == [(3,)]


def test_runs_share_one_database() -> None:
    with database.run_connection():
        first = database._database
    with database.run_connection():
        assert database._database is first is not None
