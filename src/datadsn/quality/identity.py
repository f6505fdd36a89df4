"""Cleaning a merge graph (old id -> new id) into a map onto terminal ids.

Order (spec §7.2, recommended variant): drop self-links; break every cycle by dropping its oldest
edge (smallest date, then ids: deterministic), repeated until acyclic; keep one edge per old id
(latest date, then smallest new id); compress paths with a bounded fix-point loop of SQL joins
(no WITH RECURSIVE, so Spark can run the same loop).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from datadsn.engine.backends import Backend
from datadsn.engine.runner import table_from_lists

MAX_ITERATIONS = 10_000
_EDGE_COLUMNS = {
    "ancien_id": "VARCHAR",
    "nouveau_id": "VARCHAR",
    "date_modification": "DATE",
    "motif": "VARCHAR",
}

Edge = tuple[str, str, dt.date | None, str]


class GraphError(RuntimeError):
    """The fix-point loop did not converge within its bound."""


def _date(edge: Edge) -> dt.date:
    return edge[2] or dt.date.min


def clean_edges(edges: list[Edge]) -> list[Edge]:
    """Self-links, cycles and non-injective edges removed; paths not yet compressed."""
    best: dict[tuple[str, str], Edge] = {}
    for e in edges:
        if e[0] == e[1]:
            continue
        key = (e[0], e[1])
        kept = best.get(key)
        if kept is None or (_date(e), e[3]) > (_date(kept), kept[3]):
            best[key] = e
    current = sorted(best.values(), key=lambda e: (e[0], e[1]))
    while True:
        cyclic = _cyclic_components(current)
        if not cyclic:
            break
        drop = set()
        for component in cyclic:
            inside = [e for e in current if e[0] in component and e[1] in component]
            drop.add(min(inside, key=lambda e: (_date(e), e[0], e[1]))[:2])
        current = [e for e in current if e[:2] not in drop]
    chosen: dict[str, Edge] = {}
    # latest date first, then smallest new id: the first edge seen per old id wins
    for e in sorted(current, key=lambda e: (-_date(e).toordinal(), e[1])):
        chosen.setdefault(e[0], e)
    return sorted(chosen.values(), key=lambda e: e[0])


def _cyclic_components(edges: list[Edge]) -> list[set[str]]:
    """Strongly connected components with more than one vertex (iterative Tarjan)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        graph[e[0]].append(e[1])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph.get(node, [])
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.add(w)
                    if w == node:
                        break
                if len(component) > 1:
                    out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def compress_paths(db: Backend, table: str) -> int:
    """Point every edge at a terminal vertex by repeated self-joins; returns iterations."""
    for iteration in range(1, MAX_ITERATIONS + 1):
        db.create(
            f"{table}_suivant",
            f"""SELECT e.ancien_id, coalesce(f.nouveau_id, e.nouveau_id) AS nouveau_id,
                   e.date_modification, e.motif
            FROM {table} e LEFT JOIN {table} f ON f.ancien_id = e.nouveau_id""",
        )
        rows = db.rows(
            f"""SELECT count(*) FROM {table} e JOIN {table}_suivant s ON s.ancien_id = e.ancien_id
            WHERE s.nouveau_id <> e.nouveau_id"""
        )
        db.drop(table)
        db.rename(f"{table}_suivant", table)
        if not rows or rows[0][0] == 0:
            return iteration
    raise GraphError(f"graphe de fusions non convergent après {MAX_ITERATIONS} itérations")


def resolve(db: Backend, edges_table: str, out_table: str) -> int:
    """``out_table``(ancien_id, nouveau_id, date_modification, motif), new ids terminal."""
    rows = db.rows(
        f"SELECT ancien_id, nouveau_id, date_modification, motif FROM {edges_table} "
        "WHERE ancien_id IS NOT NULL AND nouveau_id IS NOT NULL"
    )
    cleaned = clean_edges([(str(a), str(b), d, str(m)) for a, b, d, m in rows])
    columns = {c: (t, [e[i] for e in cleaned]) for i, (c, t) in enumerate(_EDGE_COLUMNS.items())}
    table_from_lists(db, out_table, columns)
    if cleaned:
        compress_paths(db, out_table)
    return len(cleaned)
