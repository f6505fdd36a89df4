"""Ingestion on Spark: the run's NEODES chunks parsed by Spark's executors.

The driver (``run.ingest``) plans the chunks as the local ingestion does; each chunk is one Spark
task (``mapPartitions`` over one partition per chunk; ``mapInArrow`` over one ``range`` id per
partition on Spark Connect, which has no RDD) running the same ``run.process_chunk``, which
writes the chunk's Parquet files under names fixed by the lot version and the chunk's part
number: a task Spark retries, or runs twice speculatively, rewrites the same files (each written
to a temporary name, then renamed) instead of adding rows. The tasks return
only their counts; the driver adds them up, then leaves out duplicates and commits the lot exactly
as a local run does. Executors must see the input files and the warehouse at the driver's paths
(one machine, or a shared mount).

The pseudonymisation key never travels with the tasks: each executor reads it from its own
environment (``DATADSN_SECRET`` or ``DATADSN_SECRET_FILE``), and the task carries only the key's
fingerprint, so that an executor holding no key, or another one, stops the run with a French
message instead of writing pseudonyms that would match nothing.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING

# Nothing here imports Polars: an executor sets its thread count before the first import.
from datadsn.engine import faults

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from datadsn.engine.lots import LotVersion
    from datadsn.engine.warehouse import Warehouse
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ChunkResult, IngestSummary, Progress
    from datadsn.ingest.sources import SourceRef

# What a task needs, the key aside: its files, the warehouse root, the lot version, its part.
SparkTask = tuple[list["SourceRef"], str, "LotVersion", int]
# Crash tests: a task dies here after writing its files, on its first attempt only (Spark then
# runs it again: the retry must not add rows).
RETRIED_FAULT = "ingest.spark-task"


def parse_on_spark(
    refs: list[SourceRef],
    warehouse: Warehouse,
    lot: LotVersion,
    secret: Secret,
    master: str | None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Parse every chunk of ``refs`` on Spark's executors, writing under the version ``lot``."""
    from datadsn.engine.backends.spark import get_session
    from datadsn.ingest.pseudonymize import SecretError
    from datadsn.ingest.run import ChunkResult, IngestSummary, plan_chunks
    from datadsn.ingest.worker import WorkerError
    from datadsn.resources import peak_kib

    spark = get_session(master)
    context = _context(spark)
    summary = IngestSummary(lot=lot.lot, warehouse=str(warehouse.root))
    total = sum(r.size for r in refs)
    groups = plan_chunks(refs, _cores(spark, context))
    if progress:
        progress(0, total)
    # Relative input and warehouse paths are the driver's: each task works in its folder.
    root = str(warehouse.root.absolute())
    tasks: list[tuple[int, SparkTask]] = [
        (part, (group, root, lot, part)) for part, group in enumerate(groups)
    ]
    parse = task_function(secret)
    try:
        if context is None:  # Spark Connect: no RDD, one Arrow task a chunk
            answers = _on_connect(spark, tasks, parse)
        else:
            job = context.parallelize(tasks, max(1, len(tasks))).mapPartitions(parse)
            with _reporting(context, progress, total, len(tasks)):
                answers = job.collect()
    except Exception as exc:
        if context is not None:
            _settle(context)
        raise WorkerError(f"une tâche Spark d'ingestion a échoué : {_reason(exc)}") from exc
    errors = [error for _, _, error in answers if error]
    if errors:
        raise SecretError(errors[0])
    for _, counts, _ in answers:
        summary.add(ChunkResult(**json.loads(counts)))
    if progress:
        progress(total, total)
    summary.peak_mb = round(peak_kib() / 1024, 1)  # the driver's (executors report none)
    return summary


def _settle(context: SparkContext, seconds: float = 10.0) -> None:
    """After a failed job, cancel it and wait (at most ``seconds``) until no task runs: the
    other tasks, dying or killed, print their Java traces on the same console, and one printed
    after the command's French message left it buried (seen in the test of a task that dies
    without retry)."""
    context.cancelAllJobs()
    tracker = context._jsc.sc().statusTracker()  # the executors' view, which PySpark lacks
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(e.numRunningTasks() for e in tracker.getExecutorInfos()):
            return
        time.sleep(0.05)


def _context(spark: SparkSession) -> SparkContext | None:
    """The classic session's context; None on Spark Connect, which has none."""
    from datadsn.engine.backends.spark import is_classic

    return spark.sparkContext if is_classic(spark) else None


def _cores(spark: SparkSession, context: SparkContext | None) -> int:
    """The cores the chunks are planned for: Spark's default parallelism, which Spark Connect
    does not tell but gives a ``range`` as its number of partitions (one small job)."""
    if context is not None:
        return max(1, context.defaultParallelism)
    from datadsn.engine.backends.spark import functions

    F = functions(spark)
    ids = spark.range(0, 1 << 16).select(F.spark_partition_id().alias("p"))
    (last,) = ids.agg(F.max("p")).first() or (0,)
    return max(1, int(last) + 1)


def answer_schema() -> pa.Schema:
    """A task's answer (part, counts, error), for the executors' batches and Spark's plan."""
    import pyarrow as pa

    return pa.schema([("part", pa.int64()), ("counts", pa.string()), ("error", pa.string())])


def _on_connect(
    spark: SparkSession,
    tasks: list[tuple[int, SparkTask]],
    parse: Callable[[Iterable[tuple[int, SparkTask]]], Iterator[Answer]],
) -> list[Answer]:
    """The tasks as one partition each of ``range`` (one id a partition), mapped in Arrow
    (``mapInArrow``: Spark Connect's way to run Python on the executors) by ``parse``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    numbered = dict(tasks)
    ids = spark.range(0, len(tasks), 1, max(1, len(tasks)))
    job = ids.mapInArrow(partial(arrow_tasks, parse, numbered), from_arrow_schema(answer_schema()))
    return [(row.part, row.counts, row.error) for row in job.collect()]


def arrow_tasks(
    parse: Callable[[Iterable[tuple[int, SparkTask]]], Iterator[Answer]],
    tasks: dict[int, SparkTask],
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """On an executor: the tasks named by the ids of the partition's batches, parsed."""
    import pyarrow as pa

    parts = [part for batch in batches for part in batch.column(0).to_pylist()]
    answers = list(parse((part, tasks[part]) for part in parts))
    schema = answer_schema()
    yield pa.RecordBatch.from_pylist(
        [dict(zip(schema.names, a, strict=True)) for a in answers], schema=schema
    )


@contextmanager
def _reporting(
    context: SparkContext, progress: Progress | None, total: int, tasks: int
) -> Iterator[None]:
    """Report the share of the job's tasks done, twice a second, while the job runs (the
    run's only job: the tasks of its active stages)."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def poll() -> None:
        tracker = context.statusTracker()
        while not stop.wait(0.5):
            stages = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
            done = sum(s.numCompletedTasks for s in stages if s is not None)
            progress(total * min(done, tasks) // max(1, tasks), total)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join()


Answer = tuple[int, str, str | None]  # part, its counts (JSON), the error that stopped it


def task_function(secret: Secret) -> Callable[[Iterable[tuple[int, SparkTask]]], Iterator[Answer]]:
    """What Spark ships to the executors: the key's fingerprint, never the key."""
    return partial(parse_tasks, secret.fingerprint(), secret.demo, os.getcwd())


def parse_tasks(
    fingerprint: str, demo: bool, cwd: str, tasks: Iterable[tuple[int, SparkTask]]
) -> Iterator[Answer]:
    """On an executor: run the tasks of one partition; one answer each."""
    # One Polars thread: Spark gives a task one core (set before Polars is first imported).
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    from datadsn.ingest.pseudonymize import SecretError
    from datadsn.ingest.run import process_chunk

    try:
        secret = executor_secret(fingerprint, demo)
    except SecretError as exc:  # not worth a retry: the whole run stops with this message
        yield from ((part, "", str(exc)) for part, _ in tasks)
        return
    before = os.getcwd()
    os.chdir(cwd)
    try:
        done = [(part, _encode(process_chunk(*task, secret))) for part, task in tasks]
    finally:
        os.chdir(before)
    if _first_attempt():
        faults.point(RETRIED_FAULT)
    yield from ((part, counts, None) for part, counts in done)


def executor_secret(fingerprint: str, demo: bool) -> Secret:
    """The key from this executor's environment, checked against the driver's fingerprint."""
    from datadsn.ingest.pseudonymize import Secret, SecretError, SecretMissingError

    where = f"exécuteur Spark sur {socket.gethostname()}"
    how = (
        "donnez la clé aux workers Spark par DATADSN_SECRET_FILE (un fichier lisible par eux "
        "seuls) ou par l'environnement de leurs processus (docs/spark.md)"
    )
    try:
        secret = Secret.from_env(demo=demo)
    except SecretMissingError:
        raise SecretError(f"{where} : aucune clé de pseudonymisation ; {how}") from None
    except SecretError as exc:  # one too short, a file it cannot read
        raise SecretError(f"{where} : {exc} ; {how}") from None
    if secret.fingerprint() != fingerprint:
        raise SecretError(f"{where} : la clé de pseudonymisation n'est pas celle du pilote ; {how}")
    return secret


def _first_attempt() -> bool:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context is not None and context.attemptNumber() == 0


def _encode(result: ChunkResult) -> str:
    return json.dumps(asdict(result))


# Spark's error holds the task's Python traceback, whose last line says why, or else the
# reason the task was lost (a worker that died, say), among pages of Java frames.
_PYTHON_ERROR = re.compile(r"Traceback \(most recent call last\):\n(?:[ \t].*\n|\n)*(.+)")
_LOST_TASK = re.compile(
    r"most recent failure: Lost task [^:]*: (?:[\w.$]+: )?([^\n]+?)(?:\. |\n|$)"
)


def _reason(exc: Exception) -> str:
    text = str(exc)
    found = _PYTHON_ERROR.search(text) or _LOST_TASK.search(text)
    if found:
        return found.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
