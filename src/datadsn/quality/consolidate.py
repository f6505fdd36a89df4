"""One monthly run: state(M) = consolidate(state(M-1), raw declarations not yet integrated).

The steps are the SQL models of ``sql/`` and the Python steps of ``steps.py`` (the merge-graph
fix-point, the holiday calendar...), run by the engine in the order their inputs give
(engine/models.py).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from datadsn import __version__, months
from datadsn.engine import backends, locks, models, schedule
from datadsn.engine.backends import Backend
from datadsn.engine.plans import profiled
from datadsn.engine.release import Releases
from datadsn.engine.runner import Step, table_from_lists
from datadsn.engine.warehouse import Warehouse
from datadsn.resources import peak_kib

from . import archive, history, salaries_archive, snapshot
from .carry import DECLARED, UNITS, Carry
from .inputs import (
    beyond_retention,
    load_pending,
    raw_months,
    retention_cutoff,
    retention_limit,
    write_seen,
)
from .schema import KEYS, PUBLISHED, SQL, TABLES, select_list
from .steps import STEPS, Clock, Context

# Codes checked against the norm catalogue (unknown ones are flagged, never rejected).
CHECKED_CODES = {
    "nature_contrat": "S21.G00.40.007",
    "motif_recours": "S21.G00.40.021",
    "dispositif_politique_publique": "S21.G00.40.008",
}

# Rows of the previous snapshot a run does not read (see salaries_archive.py).
_LOAD_FILTER = {"salaries": "NOT coalesce(allocated_from_ett, false)"}

Progress = Callable[[str, int, int], None]
# Fixed costs of a run timed beside its steps (RunSummary.seconds): reading the steps'
# dependencies (once per process) and rebuilding the warehouse catalogue after publishing.
DEPENDENCIES = "dépendances des étapes"
CATALOGUE = "catalogue"
# What the code after the steps reads besides the published tables (_run, _totals, the
# publication: archive.py, salaries_archive.py): kept to the end of the run, where the other
# tables go once their last step has read them (engine/release.py; a test reads this code for
# the names it uses).
READ_AFTER_STEPS = frozenset(
    {"stg_declarations_multiples", "int_salaries", "int_salaries_retirees", "contrats_reglees"}
)


class ConsolidationError(RuntimeError):
    """A run that cannot start (bad month, missing previous snapshot...)."""


@dataclass
class RunSummary:
    month: str
    declarations: int
    # declarations left out: of months before the retention that arrived since the previous
    # run; with several company or establishment blocks (raw data ingested before their rejection)
    beyond_retention: int = 0
    several_establishments: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # the run's row of chargements
    seconds: dict[str, float] = field(default_factory=dict)
    # CPU seconds per step and fixed cost, where they can be told apart (see _run_pipeline), and
    # the process's peak memory (MiB) when each ended: the one that raises it is where it goes
    cpu: dict[str, float] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


@contextmanager
def _exclusive(store: Warehouse) -> Iterator[None]:
    """Hold the warehouse's consolidation lock for a run. Two runs at once would remove each
    other's temporary folders (``snapshot.clean_leftovers``) and fail on a missing file; the
    second one stops at once with a clear message instead. An ingestion does not remove the raw
    files of a replaced lot version while it is held."""
    busy = (
        f"une autre consolidation est en cours sur {store.root} : attendez qu'elle se "
        "termine, puis relancez"
    )
    try:
        with locks.exclusive(store.consolidation_lock, busy):
            yield
    except locks.LockedError as exc:
        raise ConsolidationError(str(exc)) from None


def _bounds(store: Warehouse) -> tuple[str | None, list[str]]:
    """The last published month (None before the first run) and the raw store's months."""
    return snapshot.current_month(store), raw_months(store)


def _outside_raw(month: str, raw: list[str], allowed: str) -> ConsolidationError:
    held = f"{raw[0]} à {raw[-1]}" if raw else "aucun mois"
    return ConsolidationError(f"mois {month} absent des données brutes ({held}) : {allowed}")


def _nothing_raw(store: Warehouse) -> ConsolidationError:
    return ConsolidationError(
        f"aucune déclaration dans les données brutes de {store.root} : lancez `datadsn ingest`"
    )


def _first_month(raw: list[str], month: str) -> str:
    """The month a first run must take: the first raw month, unless every raw month before
    ``month`` is beyond its retention (``month`` then leaves them out and reports them, as a run
    from the first raw month would have dropped them by then)."""
    if month in raw and all(m < retention_cutoff(month) for m in raw if m < month):
        return month
    return raw[0]


def check_run(store: Warehouse, month: str) -> str:
    """``month`` checked before a run: a real month, the first raw month when nothing is
    published yet, else the last published month (run again) or the one right after it."""
    month = months.parse(month, ConsolidationError)
    current, raw = _bounds(store)
    if current is None:
        if not raw:
            raise _nothing_raw(store)
        if month != _first_month(raw, month):
            first = (
                f"aucun instantané publié, la première consolidation porte sur le premier mois "
                f"des données brutes (--month {raw[0]}, ou --through {raw[-1]} pour tous)"
            )
            if not raw[0] <= month <= raw[-1]:
                raise _outside_raw(month, raw, first)
            raise ConsolidationError(f"mois {month} : {first}")
        return month
    if month < current:
        raise ConsolidationError(
            f"le mois {month} précède le dernier mois publié ({current}) : les instantanés "
            "sont immuables, relancez le mois courant ou les suivants"
        )
    following = months.next_month(current)
    if month > following:
        if not raw or not raw[0] <= month <= raw[-1]:
            raise _outside_raw(month, raw, f"le prochain mois à consolider est {following}")
        raise ConsolidationError(
            f"mois {month} : les mois se consolident dans l'ordre, le prochain est {following} "
            f"(--through {month} pour consolider jusqu'à {month})"
        )
    return month


def pending_months(store: Warehouse, through: str) -> list[str]:
    """Months to run, in order, up to ``through`` (from the month after CURRENT, else from the
    first raw month). ``through`` must lie between the first raw month and the last one (or
    the month right after the last published one)."""
    through = months.parse(through, ConsolidationError)
    current, raw = _bounds(store)
    if not raw and current is None:
        raise _nothing_raw(store)
    following = months.next_month(current) if current else raw[0]
    low = raw[0] if raw else following
    high = max(raw[-1], following) if raw else following
    if not low <= through <= high:
        raise _outside_raw(through, raw, f"indiquez un mois de {low} à {high}")
    return months.between(following, through)


def _previous_folder(store: Warehouse, month: str) -> Path | None:
    published = [m for m in snapshot.published_months(store) if m < month]
    if not published:
        return None
    prev = months.previous_month(month)
    if prev not in published:
        raise ConsolidationError(
            f"l'instantané {prev} manque : consolidez les mois dans l'ordre (--through {month})"
        )
    problem = snapshot.layout_problem(store, prev)
    if problem:
        raise ConsolidationError(problem)
    return snapshot.snapshot_dir(store, prev)


def _prepare(
    db: Backend,
    folder: Path | None,
    month: str,
    archived: dict[str, Path],
    started: dt.datetime,
) -> None:
    for table, model in PUBLISHED.items():
        if model.previous is None:
            continue  # history tables: see carry.py
        path = folder / f"{table}.parquet" if folder else None
        if path and path.exists():
            # tables read by several steps are loaded once (@previous table), the others
            # scanned in place; a column the file predates reads as NULL (files_sql)
            where = f" WHERE {_LOAD_FILTER[table]}" if table in _LOAD_FILTER else ""
            db.create(
                f"prev_{table}",
                f"SELECT * FROM ({history.files_sql(table, [path])}) p{where}",
                kind="view" if model.previous == "view" else "table",
            )
        else:
            db.create_empty(f"prev_{table}", TABLES[table])
    db.create(
        "run_params",
        "SELECT CAST(? AS DATE) AS mois, CAST(? AS TIMESTAMP) AS debut, "
        "CAST(? AS VARCHAR) AS version, CAST(? AS DATE) AS limite_retention",
        params=[f"{month}-01", started, __version__, retention_limit(month)],
    )
    _known_codes(db)
    salaries_archive.load(db, folder, archived)


@lru_cache(maxsize=1)
def _code_rows() -> tuple[tuple[str, str], ...]:
    from datadsn.norm import load_norm

    norm = load_norm()
    return tuple(
        (column, code)
        for column, rubrique in CHECKED_CODES.items()
        if rubrique in norm.rubriques
        for code in norm.rubriques[rubrique].codes
    )


def _known_codes(db: Backend) -> None:
    rows = _code_rows()
    table_from_lists(
        db,
        "codes_connus",
        {"rubrique": ("VARCHAR", [r for r, _ in rows]), "code": ("VARCHAR", [c for _, c in rows])},
    )


@lru_cache(maxsize=1)
def pipeline() -> models.Pipeline:
    """The consolidation's steps in order (the model files are read once)."""
    return models.load(SQL, STEPS)


def _tasks() -> tuple[list[schedule.Task], dict[str, set[str]], dict[str, Step]]:
    """The pipeline's tasks, what each waits for, and the SQL steps by name."""
    steps = pipeline()
    return list(steps.tasks), steps.depends, {n: m.step for n, m in steps.models.items()}


def _run_pipeline(
    db: Backend,
    context: Context,
    report: Progress,
    summary: RunSummary,
    total: int,
    own_cpu: bool,
    plans: Path | None = None,
) -> None:
    """The steps of the pipeline, two at a time where their inputs allow (engine/schedule.py);
    a step's time is its own wall time (two steps may overlap). With ``own_cpu`` (DuckDB on one
    thread per step, which runs a query in the thread that asks it), a step's CPU time is that
    of its thread; otherwise engine threads work for both steps at once and it is not kept. With
    ``plans``, each table step's profiled plan is written there (engine/plans.py)."""
    steps = pipeline()
    started: list[str] = []

    def traced(cur: Backend, model: models.Model) -> AbstractContextManager[None]:
        if plans is None or model.kind != "table":  # a view's plan runs in its readers
            return nullcontext()
        return profiled(cur, plans / f"{model.name}.json")

    def run_one(cur: Backend, task: schedule.Task) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        if task.name in steps.models:
            model = steps.models[task.name]
            with traced(cur, model):
                model.run(cur)
        else:
            steps.python[task.name].run(cur, context)
        summary.seconds[task.name] = time.perf_counter() - t0
        if own_cpu:
            summary.cpu[task.name] = time.thread_time() - c0
        summary.peak_mib[task.name] = peak_kib() / 1024

    def on_start(task: schedule.Task) -> None:
        started.append(task.name)
        report(task.name, len(started), total)

    releases = _releases(steps)

    def on_done(task: schedule.Task) -> None:
        for name in releases.finished(task.name):
            db.drop(name)

    schedule.run(db, steps.tasks, run_one, steps.depends, on_start=on_start, on_done=on_done)


def _releases(steps: models.Pipeline) -> Releases:
    """When each table the steps build can go: read by no step left, nor after the steps."""
    reads = {t.name: (t.inputs() or frozenset()) - t.outputs() for t in steps.tasks}
    views = [n for n, m in steps.models.items() if m.kind == "view"]
    tables = [n for n, m in steps.models.items() if m.kind == "table"]
    return Releases(reads, views, [*tables, *_loaded()], kept=set(TABLES) | READ_AFTER_STEPS)


def _loaded() -> set[str]:
    """The tables of the previous state a run loads before its steps (the others are views on
    its files)."""
    previous = {f"prev_{t}" for t, m in PUBLISHED.items() if m.previous == "table"}
    declared = {f"prev_{t}" for t in DECLARED}
    return previous | declared | {UNITS, salaries_archive.LOADED}


def step_threads() -> int:
    """DuckDB threads per step: the cores shared by the steps running side by side. On two
    cores, one thread per step and two steps at a time took 27 to 36 % less CPU and 15 to 30 %
    less wall time than one step at a time on two threads (docs/benchmarks.md)."""
    return max(1, (os.cpu_count() or 1) // schedule.WORKERS)


def _totals(db: Backend) -> dict[str, int]:
    """The run's row of ``chargements``: declarations integrated, then totals of the new state
    (archived contracts and carried history months included)."""
    names = [c for c, kind in TABLES["chargements"].items() if kind == "BIGINT"]
    rows = db.rows(
        f"SELECT {', '.join(names)} FROM chargements WHERE mois = (SELECT mois FROM run_params)"
    )
    return {n: int(v) for n, v in zip(names, rows[0] if rows else (), strict=False)}


def _write_snapshot(
    db: Backend,
    tmp: Path,
    carry: Carry,
    archived: dict[str, dict[str, Path]],
) -> None:
    """Every table of the new state into ``tmp``: history and archive months that did not
    change are linked from the previous snapshot, the rest written sorted (two tables at a
    time)."""

    def write(cur: Backend, table: str) -> None:
        if table in history.PARTITIONED:
            carry.publish(cur, tmp, table)
        elif table == "contrats":
            archive.publish(cur, tmp, archived[table], carry.month)
        elif table == "salaries":
            salaries_archive.publish(cur, tmp, archived[table], carry.month)
        else:
            cur.write_parquet(
                f"SELECT {select_list(table)} FROM {table}",
                tmp / f"{table}.parquet",
                order_by=KEYS[table],
            )

    schedule.each(db, TABLES, write)
    write_seen(db, tmp)


def step_labels() -> list[str]:
    return ["lecture des déclarations", *pipeline().order, "publication"]


def consolidate(
    store: Warehouse,
    month: str,
    progress: Progress | None = None,
    threads: int | None = None,
    refresh_catalog: bool = True,
    clock: Clock = dt.datetime.now,
    engine: str | None = None,
    master: str | None = None,
    plans: Path | None = None,
) -> RunSummary:
    """Consolidate ``month`` into ``quality/<month>`` and publish it atomically. ``clock``
    gives the run's times (``chargements.debut`` and ``fin``): a fixed one makes two runs on
    the same inputs publish identical files. ``engine``: ``duckdb`` or ``spark`` (default
    ``DATADSN_ENGINE``, else DuckDB); ``master``: Spark's (engine/backends/spark.py);
    ``plans``: a folder for the profiled plan of each table step (DuckDB only)."""
    started = time.perf_counter()
    summary = RunSummary(month=month, declarations=0)
    with _exclusive(store):
        check_run(store, month)
        threads = threads or step_threads()
        with backends.session(engine, threads, master) as db:
            report = progress or (lambda label, done, total: None)
            own_cpu = db.engine == "duckdb" and threads == 1
            _run(store, db, month, report, summary, refresh_catalog, clock, own_cpu, plans)
    summary.total_seconds = time.perf_counter() - started
    return summary


def _run(
    store: Warehouse,
    db: Backend,
    month: str,
    report: Progress,
    summary: RunSummary,
    refresh_catalog: bool,
    clock: Clock,
    own_cpu: bool,
    plans: Path | None,
) -> None:
    """The run of :func:`consolidate`, under the warehouse's lock."""
    labels = step_labels()
    total = len(labels)
    snapshot.clean_leftovers(store)
    folder = _previous_folder(store, month)
    report(labels[0], 0, total)
    with _phase(summary, labels[0]):
        # The state's tables load while the pending declarations are read: neither needs the
        # other, and loading the contracts and archived employees grows with the state.
        archived = {t: archive.carried(folder, month, t) for t in history.ARCHIVES}
        side = db.cursor()
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                prepared = pool.submit(_prepare, side, folder, month, archived["salaries"], clock())
                summary.declarations = load_pending(db, store, month, folder)
                summary.beyond_retention = beyond_retention(db, store, month, folder)
                prepared.result()
        finally:
            side.close()
        carry = Carry(folder, month)
        carry.load(db)
        archive.load(db, folder, archived["contrats"])
    with _phase(summary, DEPENDENCIES):
        pipeline()  # the model files, read once per process: a fixed cost of a fresh command
    context = Context(carry, archived["contrats"], clock)
    _run_pipeline(db, context, report, summary, total, own_cpu, plans)
    summary.counts = _totals(db)
    rows = db.rows("SELECT count(*) FROM stg_declarations_multiples")
    summary.several_establishments = int(rows[0][0]) if rows else 0
    report(labels[-1], total - 1, total)
    with _phase(summary, labels[-1]):
        tmp = snapshot.temp_dir(store, month)
        _write_snapshot(db, tmp, carry, archived)
        snapshot.publish(store, month, tmp)
    if refresh_catalog:  # a --through run refreshes once, at its last month
        with _phase(summary, CATALOGUE):
            store.refresh_catalog()
    report(labels[-1], total, total)


@contextmanager
def _phase(summary: RunSummary, label: str) -> Iterator[None]:
    """Time a part of a run that no step runs beside: its wall and CPU time (every thread of
    the process works for it) and the peak memory when it ends."""
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    summary.seconds[label] = time.perf_counter() - t0
    summary.cpu[label] = time.process_time() - c0
    summary.peak_mib[label] = peak_kib() / 1024
