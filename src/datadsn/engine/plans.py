"""The profiled plan of each step of a run on DuckDB, and what to look for in it.

``datadsn consolidate --plans DIR`` writes DuckDB's JSON profile of every table step (the
operators of its plan, the time each took, the rows each produced) to ``DIR/<step>.json`` and
prints the heaviest steps with their heaviest operator. It also lists the delim joins: DuckDB
plans a correlated ``EXISTS`` or ``NOT EXISTS`` as one, which deduplicates and joins the outer
rows again; over the few rows of a change block it is harmless, over every archived row it cost
a step 1.6 to 1.9 times its plain join (docs/benchmarks.md), so such a filter is written as a
join instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadsn.engine.backends import Backend
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.runner import quote_path


@dataclass
class Operator:
    name: str
    seconds: float
    rows: int


@dataclass
class StepPlan:
    """One step's profile: its operators' total time, the heaviest, and its delim joins with
    the rows of their largest input."""

    step: str
    seconds: float
    heaviest: Operator | None
    delim_joins: list[Operator] = field(default_factory=list)


@contextmanager
def profiled(db: Backend, target: Path) -> Iterator[None]:
    """Profile the statements run on ``db`` (a DuckDB cursor) into ``target``: the last one's
    plan stays there. Other engines run unprofiled."""
    if not isinstance(db, DuckDBBackend):
        yield
        return
    con = db.con
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute("PRAGMA enable_profiling = 'json'")
    con.execute(f"PRAGMA profiling_output = {quote_path(target)}")
    try:
        yield
    finally:
        con.execute("PRAGMA disable_profiling")


def read(path: Path) -> StepPlan:
    """The summary of one profile file written by :func:`profiled`."""
    root = json.loads(path.read_text(encoding="utf-8"))
    operators: list[tuple[Operator, list[int]]] = []
    _walk(root, operators)
    plain = [op for op, _ in operators]
    delim = [
        Operator(op.name, op.seconds, max(inputs, default=0))
        for op, inputs in operators
        if "DELIM_JOIN" in op.name
    ]
    return StepPlan(
        step=path.stem,
        seconds=sum(op.seconds for op in plain),
        heaviest=max(plain, key=lambda op: op.seconds, default=None),
        delim_joins=sorted(delim, key=lambda op: -op.rows),
    )


def _walk(node: dict[str, Any], out: list[tuple[Operator, list[int]]]) -> None:
    children = node.get("children", [])
    name = node.get("operator_name") or node.get("operator_type")
    if name:
        op = Operator(
            str(name).strip(),
            float(node.get("operator_timing", 0.0)),
            int(node.get("operator_cardinality", 0)),
        )
        out.append((op, [int(c.get("operator_cardinality", 0)) for c in children]))
    for child in children:
        _walk(child, out)


def read_all(folder: Path) -> list[StepPlan]:
    """Every step's summary in ``folder``, the heaviest first."""
    plans = [read(p) for p in sorted(folder.glob("*.json"))]
    return sorted(plans, key=lambda p: -p.seconds)
