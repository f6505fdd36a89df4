"""An ingestion run: files in, raw tables and rejections written to the warehouse, a summary out.

Files are parsed in chunks of bounded size (memory does not grow with the number of files). The
command's process parses chunks itself; on a batch big enough it also starts helper processes
(``worker.py``), on a smaller one helper threads. Each chunk writes its own Parquet files and
returns only its counts. Inside a chunk, what is parsed at once never exceeds ``PIECE_BYTES`` of
text: compressed files that expand are parsed in several batches, and a file larger than that
is parsed in pieces (``pieces.py``). A file that cannot be read is one rejection, not an error.

The run writes a new version of its lot beside the one served, leaves out the declarations the
warehouse holds already (``duplicates.py``), then switches the version in by one atomic step
(``engine/lots.py``). One ingestion at a time per warehouse.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from datadsn.engine import faults, locks, lots
from datadsn.engine.lots import LotVersion
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest import dsnp3, issues
from datadsn.ingest.duplicates import deduplicate
from datadsn.ingest.lines import Source
from datadsn.ingest.parser import (
    Counts,
    ParsedBatch,
    file_info,
    file_rejections,
    parse_batch,
)
from datadsn.ingest.pieces import parse_in_pieces
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.sources import FileProblem, SourceRef, chunks, expand
from datadsn.ingest.worker import (
    PROCESS_MIN_BYTES,
    Worker,
    WorkerError,
    take_prestarted,
)
from datadsn.resources import peak_kib

CHUNK_BYTES = 24 * 1024 * 1024
MIN_CHUNK_BYTES = 4 * 1024 * 1024
CHUNK_FILES = 4000
# Below this, the fixed cost of more, smaller chunks outweighs a second thread.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Most text parsed at once: the parser needs 10 to 25 times what it parses (docs/benchmarks.md).
PIECE_BYTES = CHUNK_BYTES
# Each batch parsed in a chunk writes its own files: part number ``part + k * PART_STRIDE`` for
# its k-th batch (above any chunk count: a million chunks of 24 MiB is 24 TiB).
PART_STRIDE = 1_000_000
# Parts of the DSNP3 extractions of a lot (one part each), apart from the NEODES chunks' parts.
DSNP3_PART = PART_STRIDE // 2
FORMATS = ("neodes", "dsnp3")

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass
class ChunkResult(Counts):
    """The counts of one chunk of files, with what was written for them."""

    bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    rejections: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestSummary(ChunkResult):
    lot: str = ""
    warehouse: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0  # peak resident memory of the command plus that of each helper process
    # declarations stored already (in another lot, or earlier in this one): not stored again
    declarations_duplicated: int = 0
    lines_duplicated: int = 0
    leftovers_removed: int = 0  # files of replaced versions and of interrupted runs

    @property
    def reconciled(self) -> bool:
        return self.lines_read == self.lines_stored + self.lines_rejected + self.lines_duplicated

    def to_json(self) -> dict:
        data = asdict(self)
        data["mb_per_s"] = round(self.bytes / 1e6 / self.seconds, 2) if self.seconds else None
        data["reconciled"] = self.reconciled
        return data


def lot_id(refs: list[SourceRef]) -> str:
    """The same set of inputs is the same lot: ingesting it again replaces it."""
    digest = hashlib.sha256("\n".join(sorted(r.name for r in refs)).encode()).hexdigest()
    return digest[:12]


# What a chunk's parser needs: its files, the warehouse root, the lot version, the part number,
# the key.
ChunkTask = tuple[list[SourceRef], str, LotVersion, int, Secret]


def process_chunk(
    refs: list[SourceRef], root: str, lot: LotVersion, part: int, secret: Secret
) -> ChunkResult:
    """Parse one chunk of files and write its tables; runs on any of the run's threads."""
    warehouse = Warehouse(Path(root))
    result = ChunkResult(bytes=sum(r.size for r in refs))
    written = 0
    problems: list[tuple[SourceRef, FileProblem]] = []

    def write(batch: ParsedBatch) -> None:
        nonlocal written
        result.add(_write_batch(warehouse, batch, lot, part + written * PART_STRIDE))
        written += 1

    loaded: list[Source] = []
    size = 0
    for ref in refs:
        try:
            if ref.problem is not None:
                raise FileProblem(ref.problem, ref.detail)
            data = ref.read(limit=PIECE_BYTES)
            if data is None:  # larger than a piece
                if loaded:
                    write(parse_batch(loaded, secret))
                    loaded, size = [], 0
                for batch in parse_in_pieces(ref, secret, PIECE_BYTES):
                    write(batch)
                continue
        except FileProblem as problem:
            problems.append((ref, problem))
            continue
        if loaded and size + len(data) > PIECE_BYTES:
            write(parse_batch(loaded, secret))
            loaded, size = [], 0
        loaded.append(Source(ref.name, data))
        size += len(data)
    # the last batch (even empty: every chunk writes its rejections) with the files rejected
    last = parse_batch(loaded, secret) if loaded else ParsedBatch()
    write(_with_file_problems(last, problems))
    return result


def _write_batch(
    warehouse: Warehouse, batch: ParsedBatch, lot: LotVersion, part: int
) -> ChunkResult:
    for name, table in batch.tables.items():
        warehouse.write_table(name, table, lot, part)
    warehouse.write_rejections(batch.rejections.to_arrow(), lot, part)
    faults.point("ingest.chunk")
    if batch.file_info is not None:
        info = batch.file_info.with_columns(lot=pl.lit(lot.lot))
        warehouse.write_file_info(info.to_arrow(), lot, part)
    codes = batch.rejections.group_by("code", "rejet").agg(n=pl.len())
    return ChunkResult(
        files=batch.files,
        declarations=batch.declarations,
        declarations_rejected=batch.declarations_rejected,
        lines_read=batch.lines_read,
        lines_stored=batch.lines_stored,
        lines_rejected=batch.lines_rejected,
        rows={name: t.num_rows for name, t in batch.tables.items()},
        rejections={c: n for c, r, n in codes.iter_rows() if r},
        warnings={c: n for c, r, n in codes.iter_rows() if not r},
        encodings=batch.encodings,
        versions=batch.versions,
    )


def _with_file_problems(
    batch: ParsedBatch, problems: list[tuple[SourceRef, FileProblem]]
) -> ParsedBatch:
    """The batch plus one rejection and one file row for each file that could not be read
    (none of its lines was read: ``lignes`` is 0 and the counts of lines are unchanged)."""
    if not problems:
        return batch
    names = [r.name for r, _ in problems]
    kinds = [issues.ALL[p.code] for _, p in problems]
    messages = [f"{k.message} : {p.detail}" for k, (_, p) in zip(kinds, problems, strict=True)]
    zeros = [0] * len(problems)
    rows = file_rejections(names, kinds, messages, zeros)
    info = file_info(names, [None] * len(problems), [r.size for r, _ in problems], zeros)
    batch.rejections = pl.concat([batch.rejections, rows])
    batch.file_info = info if batch.file_info is None else pl.concat([batch.file_info, info])
    batch.files += len(problems)
    return batch


def ingest(
    paths: list[Path],
    warehouse: Warehouse,
    secret: Secret,
    workers: int | None = None,
    progress: Progress | None = None,
    format: str | None = None,
    engine: str = "duckdb",
    master: str | None = None,
) -> IngestSummary:
    """Ingest ``paths``; ``format`` is ``neodes``, ``dsnp3`` or None (DSNP3 extracts are
    recognised by their names, every other file is NEODES). With ``engine`` ``spark``, the
    NEODES chunks are parsed by Spark's executors (``ingest/spark.py``, session from
    ``master``); the rest of the run is the same."""
    started = time.perf_counter()
    refs = expand(paths)
    extracts, others = dsnp3.extractions(refs) if format != "neodes" else ([], refs)
    neodes = others if format != "dsnp3" else []
    warehouse.root.mkdir(parents=True, exist_ok=True)
    busy = f"une autre ingestion est en cours sur {warehouse.root} : attendez qu'elle se termine"
    with locks.exclusive(warehouse.ingestion_lock, busy):
        version = LotVersion.new(lot_id(refs))
        lots.begin(warehouse.root, version)
        served = warehouse.committed()
        if engine == "spark" and neodes:
            from datadsn.ingest.spark import parse_on_spark

            summary = parse_on_spark(neodes, warehouse, version, secret, master, progress)
        elif neodes or not extracts:
            summary = _parse_all(neodes, warehouse, version, secret, workers, progress)
        else:
            summary = IngestSummary(lot=version.lot, warehouse=str(warehouse.root))
        unknown = others if format == "dsnp3" else []
        _parse_dsnp3(summary, extracts, unknown, warehouse, version, secret, progress)
        faults.point("ingest.parsed")
        _leave_out_duplicates(summary, warehouse, version, served)
        summary.seconds = time.perf_counter() - started
        faults.point("ingest.deduplicated")
        lots.commit(warehouse.root, version, summary.to_json())
        faults.point("ingest.committed")
        warehouse.refresh_catalog()
        faults.point("ingest.catalogued")
        summary.leftovers_removed = remove_leftovers(warehouse)
    return summary


def _parse_dsnp3(
    summary: IngestSummary,
    extracts: list[dsnp3.Extraction],
    unknown: list[SourceRef],
    warehouse: Warehouse,
    version: LotVersion,
    secret: Secret,
    progress: Progress | None = None,
) -> None:
    """Read each DSNP3 extraction (one part each) and reject the files given as DSNP3 that
    are not extracts. The batches of an extraction are written and let go one by one, all
    under its part: each raw table comes from one extract only, so their files do not clash
    and a declaration's rows share one file name, as deduplication expects; the rejections
    file of the last batch, which carries them all, replaces the empty ones before it."""
    total = summary.bytes + sum(r.size for e in extracts for r in e.files.values())
    for i, ext in enumerate(extracts):
        for batch in dsnp3.parse_extraction(ext, secret):
            summary.add(_write_batch(warehouse, batch, version, DSNP3_PART + i))
        summary.bytes += sum(r.size for r in ext.files.values())
        if progress:
            progress(summary.bytes, total)
    if unknown:
        summary.add(_write_batch(warehouse, dsnp3.unknown_files(unknown), version, DSNP3_PART - 1))


def remove_leftovers(warehouse: Warehouse) -> int:
    """Delete the files no manifest serves (replaced versions, interrupted runs), under the
    ingestion lock; not while a consolidation runs, which may be reading a replaced version
    (the next ingestion removes them). Returns the files removed."""
    if not locks.is_free(warehouse.consolidation_lock):
        return 0
    leftovers = lots.unserved(warehouse.data_folders, warehouse.committed())
    for path in leftovers:
        path.unlink(missing_ok=True)
    lots.forget_started(warehouse.root)
    return len(leftovers)


def _leave_out_duplicates(
    summary: IngestSummary, warehouse: Warehouse, version: LotVersion, served: lots.Committed
) -> None:
    found = deduplicate(warehouse, version, served)
    summary.declarations_duplicated = found.declarations
    summary.lines_duplicated = found.lines
    summary.lines_stored -= found.lines + found.conflict_lines
    summary.lines_rejected += found.conflict_lines
    summary.declarations_rejected += found.conflicts
    for table, removed in found.rows.items():
        summary.rows[table] = summary.rows.get(table, 0) - removed
    if found.declarations:
        summary.warnings["DECLARATION_EN_DOUBLE"] = found.declarations
    if found.conflicts:
        summary.rejections["DECLARATION_CONFLIT"] = found.conflicts


def plan_chunks(refs: list[SourceRef], workers: int) -> list[list[SourceRef]]:
    """The chunks of ``refs`` for ``workers`` parsing at once: enough to keep every worker busy
    to the end, none too big for memory."""
    total = sum(r.size for r in refs)
    chunk_bytes = max(MIN_CHUNK_BYTES, min(CHUNK_BYTES, total // (4 * workers) + 1))
    return list(chunks(refs, chunk_bytes, CHUNK_FILES))


def _parse_all(
    refs: list[SourceRef],
    warehouse: Warehouse,
    lot: LotVersion,
    secret: Secret,
    workers: int | None,
    progress: Progress | None,
) -> IngestSummary:
    """Parse every chunk of ``refs`` and write its files under the version ``lot``."""
    summary = IngestSummary(lot=lot.lot, warehouse=str(warehouse.root))
    total = sum(r.size for r in refs)
    workers = workers or (os.cpu_count() or 1 if total >= PARALLEL_MIN_BYTES else 1)
    groups = plan_chunks(refs, workers)
    workers = min(workers, len(groups))
    done = 0
    if progress:
        progress(0, total)

    counting = threading.Lock()

    def collect(result: ChunkResult) -> None:  # called by every thread
        nonlocal done
        with counting:
            summary.add(result)
            done += result.bytes
            if progress:
                progress(done, total)

    tasks = iter(enumerate(groups))
    failures: list[BaseException] = []
    helper_peaks: list[int] = []
    in_processes = total >= PROCESS_MIN_BYTES
    # helpers the command line started before its imports (worker.prestart), if any
    ready = take_prestarted()
    for unused in ready[workers - 1 :] if in_processes else ready:
        unused.close(kill=True)
    ready = ready[: workers - 1] if in_processes else []

    def take() -> ChunkTask | None:
        with counting:
            task = None if failures else next(tasks, None)
        return None if task is None else (task[1], str(warehouse.root), lot, task[0], secret)

    def fail(exc: BaseException) -> None:  # raised in the calling thread below
        with counting:
            failures.append(exc)

    def work() -> None:
        try:
            while (task := take()) is not None:
                collect(process_chunk(*task))
        except BaseException as exc:
            fail(exc)

    def work_in_process() -> None:
        # Chunks go to the helper only once it is ready; until then the others take them all.
        helper = None
        try:
            with counting:
                helper = ready.pop() if ready else None
            try:
                helper = helper or Worker()
                helper.wait_ready()
            except (OSError, WorkerError) as exc:  # it took no chunk: the others parse them all
                message = f"les paquets sont traités sans processus auxiliaire : {exc}"
                warnings.warn(message, stacklevel=1)
                return
            while (task := take()) is not None:
                collect(helper.run(task))
        except BaseException as exc:
            fail(exc)
        finally:
            if helper is not None:
                helper.close(kill=bool(failures))
                helper_peaks.append(helper.peak_kib)

    # Threads share Polars' pool and the GIL (about 40% of a chunk's work holds it); processes
    # do not, but each spends about 0.7 CPU-s importing Polars and Arrow before its first chunk.
    # Either way this thread parses chunks from the start.
    helper_work = work_in_process if in_processes else work
    helpers = [threading.Thread(target=helper_work, daemon=True) for _ in range(workers - 1)]
    for helper in helpers:
        helper.start()
    work()
    for helper in helpers:
        helper.join()
    if failures:
        raise failures[0]
    summary.peak_mb = round((peak_kib() + sum(helper_peaks)) / 1024, 1)
    return summary
