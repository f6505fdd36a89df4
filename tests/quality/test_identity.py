"""Merge-graph cleaning: the spec's verified cases (Appendix A) and the deliberate fixes."""

from __future__ import annotations

import datetime as dt

import duckdb

from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.quality.identity import clean_edges, resolve

D = dt.date


def resolved(edges: list[tuple[str, str, dt.date]]) -> dict[str, str]:
    con = duckdb.connect()
    con.execute(
        "create table aretes (ancien_id varchar, nouveau_id varchar, date_modification date, "
        "motif varchar)"
    )
    con.executemany("insert into aretes values (?, ?, ?, 'm')", edges)
    resolve(DuckDBBackend(con), "aretes", "carte")
    return dict(con.execute("select ancien_id, nouveau_id from carte").fetchall())


def test_self_links_dropped() -> None:
    assert clean_edges([("1", "1", D(2023, 1, 1), "m")]) == []


def test_pure_cycle_drops_its_oldest_edge() -> None:
    """1->2 (oldest), 2->3, 3->1: reference and ours give 2->1, 3->1."""
    got = resolved(
        [("1", "2", D(2023, 1, 1)), ("2", "3", D(2023, 1, 2)), ("3", "1", D(2023, 1, 3))]
    )
    assert got == {"2": "1", "3": "1"}


def test_tail_into_cycle_breaks_only_the_oldest_cycle_edge() -> None:
    """Deliberate difference: 1->2->5 into the cycle 5->6 (d3), 6->7 (d1), 7->5 (d2). The
    reference also deleted 7->5 (partition by string-min vertex) and left 7 unmerged; dropping
    only the oldest edge 6->7 merges everyone into 6."""
    got = resolved(
        [
            ("1", "2", D(2023, 1, 5)),
            ("2", "5", D(2023, 1, 5)),
            ("5", "6", D(2023, 1, 3)),
            ("6", "7", D(2023, 1, 1)),
            ("7", "5", D(2023, 1, 2)),
        ]
    )
    assert got == {"1": "6", "2": "6", "5": "6", "7": "6"}


def test_non_injective_keeps_latest_then_paths() -> None:
    """1->2, 1->3 (later), 2->4 -> 1->3, 2->4 (as the reference)."""
    got = resolved(
        [("1", "2", D(2023, 1, 1)), ("1", "3", D(2023, 2, 1)), ("2", "4", D(2023, 1, 1))]
    )
    assert got == {"1": "3", "2": "4"}


def test_ties_are_deterministic() -> None:
    edges = [("1", "3", D(2023, 1, 1), "m"), ("1", "2", D(2023, 1, 1), "m")]
    assert clean_edges(edges) == clean_edges(list(reversed(edges))) == [edges[1]]


def test_long_chain_compressed() -> None:
    chain = [(str(i), str(i + 1), D(2023, 1, 1)) for i in range(50)]
    assert set(resolved(chain).values()) == {"50"}
