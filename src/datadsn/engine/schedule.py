"""Running a pipeline's steps two at a time where their inputs allow it.

Most steps are small queries that leave one of the two cores idle (planning, materialising the
result), and DuckDB's own threads gained little on them here; two independent steps side by
side, one DuckDB thread each, keep both cores busy. The order of a pipeline stays the
reference: a step waits for every earlier step that produces a table its SQL names (a Python
piece: the tables it declares it reads, else every earlier step), so the result is the same as
a run one step after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

import sqlglot
from sqlglot.tokens import TokenType

WORKERS = 2  # steps at a time


@dataclass(frozen=True)
class Task:
    """One step: ``name`` is the table it produces; ``sql`` is None for a Python piece, which
    may name the tables it reads in ``reads``."""

    name: str
    sql: str | None
    reads: frozenset[str] | None = None


# Tokens that end a FROM clause at its own depth of parentheses.
_AFTER_FROM = {
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.QUALIFY,
    TokenType.WINDOW,
    TokenType.ORDER_BY,
    TokenType.LIMIT,
    TokenType.UNION,
    TokenType.EXCEPT,
    TokenType.INTERSECT,
    TokenType.SELECT,
}


def tables_read(sql: str) -> set[str]:
    """Names of the tables and views a query reads (CTE names included; they are harmless):
    each name after FROM, JOIN or a comma of a FROM list. Read from SQLGlot's tokens rather than
    its parse tree: the same names for every step of the consolidation (a test compares them)
    for 0.05 s instead of 0.18 s for its 58 steps, paid by every process that consolidates
    (0.5 s when Python has no compiled bytecode of SQLGlot's parser)."""
    tokens = sqlglot.tokenize(sql, read="duckdb")
    names: set[str] = set()
    depth = 0
    clauses: list[int] = []  # depths of the FROM clauses being read
    expect = False  # the next name is a table's
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            depth += 1
            expect = False  # a subquery or a function: its own FROM names its tables
        elif kind == TokenType.R_PAREN:
            while clauses and clauses[-1] >= depth:
                clauses.pop()
            depth -= 1
        elif kind == TokenType.FROM:
            clauses.append(depth)
            expect = True
        elif kind == TokenType.JOIN or (
            kind == TokenType.COMMA and clauses and clauses[-1] == depth
        ):
            expect = True
        elif kind in _AFTER_FROM and clauses and clauses[-1] == depth:
            clauses.pop()
            expect = False
        elif kind == TokenType.VAR and expect:
            qualified = i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT
            names.add(tokens[i + 2].text if qualified else token.text)
            expect = False
    return names


def dependencies(tasks: Sequence[Task]) -> dict[str, set[str]]:
    """Step name -> names of the earlier steps it must wait for."""
    out: dict[str, set[str]] = {}
    produced: list[str] = []
    for task in tasks:
        if task.sql is not None:
            out[task.name] = tables_read(task.sql) & set(produced)
        elif task.reads is not None:
            out[task.name] = set(task.reads) & set(produced)
        else:
            out[task.name] = set(produced)
        produced.append(task.name)
    return out


def chain_lengths(tasks: Sequence[Task], needs: dict[str, set[str]]) -> dict[str, int]:
    """Per task, the number of tasks in the longest chain that starts with it and follows what
    waits on what. Starting the ready task with the longest chain first keeps the critical path
    moving: in the consolidation it took the pipeline from about 0.85 to 0.76 s a month, simulated
    with the measured step times (pipeline order breaks ties: the sort is stable)."""
    chains: dict[str, int] = {}
    for task in reversed(tasks):  # a task waits only on earlier ones
        after = [chains[t.name] for t in tasks if task.name in needs[t.name]]
        chains[task.name] = 1 + max(after, default=0)
    return chains


class Handle(Protocol):
    """A DuckDB connection or an engine backend: hands out a handle per thread."""

    def cursor(self) -> Handle: ...

    def close(self) -> None: ...


H = TypeVar("H", bound=Handle)


def run(
    con: H,
    tasks: Sequence[Task],
    runner: Callable[[H, Task], None],
    depends: dict[str, set[str]] | None = None,
    workers: int = WORKERS,
    on_start: Callable[[Task], None] | None = None,
) -> None:
    """Run every task once its dependencies are done, at most ``workers`` at a time, each
    thread on its own cursor (``depends``: from :func:`dependencies` when not given). Of the
    tasks ready, the one with the longest chain of tasks waiting on it starts first (see
    :func:`chain_lengths`). The first failure stops the scheduling and is raised."""
    needs = depends if depends is not None else dependencies(tasks)
    chains = chain_lengths(tasks, needs)
    local = threading.local()
    cursors: list[Handle] = []
    lock = threading.Lock()

    def cursor() -> H:
        cur = getattr(local, "cursor", None)
        if cur is None:
            cur = local.cursor = con.cursor()
            with lock:
                cursors.append(cur)
        return cast(H, cur)  # a handle's cursor is a handle of its kind

    def execute(task: Task) -> None:
        runner(cursor(), task)

    done: set[str] = set()
    pending = list(tasks)
    running: dict[Future[None], Task] = {}
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="etape") as pool:
            while pending or running:
                ready = sorted(
                    (t for t in pending if needs[t.name] <= done), key=lambda t: -chains[t.name]
                )
                if not ready and not running:  # a dependency no task produces: never ready
                    raise ValueError(f"dépendances jamais satisfaites : {needs[pending[0].name]}")
                for task in ready[: max(0, workers - len(running))]:
                    pending.remove(task)
                    if on_start:
                        on_start(task)
                    running[pool.submit(execute, task)] = task
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = running.pop(future)
                    future.result()  # re-raises the step's error
                    done.add(task.name)
    finally:
        for cur in cursors:
            cur.close()


def each(con: H, names: Iterable[str], work: Callable[[H, str], None]) -> None:
    """Independent jobs (loading one table, writing one file...), two at a time."""
    run(con, [Task(n, None, frozenset()) for n in names], lambda cur, task: work(cur, task.name))
