"""Helper processes for large ingestions: each parses the chunks its parent sends, one at a time.

Threads of one process scale poorly here: Polars runs the queries of every thread on one pool,
and about 40% of a chunk's work holds the GIL (file reads, line splitting, HMAC). Two processes
with one Polars thread each parsed 14 chunks in 3.9-4.7 s where two threads took 5.9-6.1 s
(docs/benchmarks.md). A helper costs about 0.7 CPU-second to import Polars and Arrow, so the
parent starts parsing at once and the helper takes chunks once it is ready; ``datadsn ingest``
of a large batch even starts its helpers before importing its own modules (:func:`prestart`).

Protocol: the parent writes pickled tasks on the helper's stdin; the helper answers each with a
pickled ``("ok", ChunkResult, peak)`` or ``("error", exception, peak)`` on its stdout, after a
first ``("ready", pid, peak)``; ``peak`` is the helper's peak resident memory so far (KiB). End
of input ends the helper.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import signal
import subprocess
import sys
from typing import IO, TYPE_CHECKING, Any

from datadsn.ingest.sources import walk
from datadsn.resources import peak_kib

if TYPE_CHECKING:
    from datadsn.ingest.run import ChunkResult, ChunkTask


# From this size of input, helpers are processes: their start (0.7 CPU-s of imports) is repaid.
PROCESS_MIN_BYTES = 96 * 1024 * 1024
# ``datadsn ingest`` options followed by a value (anything else not starting with "-" is a path).
_VALUED_OPTIONS = {
    "-w",
    "--warehouse",
    "--summary",
    "--workers",
    "--format",
    "--engine",
    "--master",
}


class WorkerError(RuntimeError):
    """A helper process stopped before answering."""


class Worker:
    """The parent's handle on one helper process."""

    command = (sys.executable, "-m", "datadsn.ingest.worker")

    def __init__(self) -> None:
        # One Polars thread: the helper shares the cores with its parent and other helpers.
        env = {**os.environ, "POLARS_MAX_THREADS": "1"}
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.peak_kib = 0

    def _stopped(self) -> WorkerError:
        code = self.process.wait()
        return WorkerError(f"le processus auxiliaire d'ingestion s'est arrêté (code {code})")

    def _receive(self) -> tuple[str, Any]:
        assert self.process.stdout is not None
        try:
            kind, value, self.peak_kib = pickle.load(self.process.stdout)
        except (EOFError, pickle.UnpicklingError) as exc:
            raise self._stopped() from exc
        return kind, value

    def wait_ready(self) -> None:
        self._receive()

    def run(self, task: ChunkTask) -> ChunkResult:
        assert self.process.stdin is not None
        try:
            pickle.dump(task, self.process.stdin)
            self.process.stdin.flush()
        except BrokenPipeError as exc:
            raise self._stopped() from exc
        kind, value = self._receive()
        if kind == "error":
            raise value
        result: ChunkResult = value
        return result

    def close(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        elif self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # it had stopped already
                self.process.stdin.close()
        self.process.wait()  # reaped: its CPU counts in the parent's resource usage


_prestarted: list[Worker] = []


def prestart(argv: list[str]) -> None:
    """For ``datadsn ingest`` of at least ``PROCESS_MIN_BYTES``, start the helper processes
    now, so that they import Polars and Arrow while the command imports its own modules (0.6 to
    0.9 s each way, on different cores). Only a guess from the command line: the ingestion
    takes them if its batch is large enough and stops them otherwise."""
    if len(argv) < 2 or argv[1] != "ingest":
        return
    paths, workers, value_of = [], None, None
    engine = os.environ.get("DATADSN_ENGINE", "")
    for token in argv[2:]:
        if value_of is not None:
            if value_of == "--workers" and token.isdigit():
                workers = int(token)
            elif value_of == "--engine":
                engine = token
            value_of = None
        elif token in _VALUED_OPTIONS:
            value_of = token
        elif token.startswith("--engine="):
            engine = token.partition("=")[2]
        elif not token.startswith("-"):
            paths.append(token)
    if engine.strip().lower() == "spark":  # Spark's executors parse the chunks
        return
    count = (workers or os.cpu_count() or 1) - 1
    if count > 0 and _at_least(paths, PROCESS_MIN_BYTES):
        _prestarted.extend(Worker() for _ in range(count))
        atexit.register(_stop_prestarted)


def take_prestarted() -> list[Worker]:
    """The helpers :func:`prestart` started (each handed out once)."""
    taken = list(_prestarted)
    _prestarted.clear()
    return taken


def _stop_prestarted() -> None:
    for worker in take_prestarted():
        worker.close(kill=True)


def _at_least(paths: list[str], size: int) -> bool:
    """Whether the files the ingestion would read under ``paths`` hold ``size`` bytes or more
    (stops as soon as they do)."""
    total = 0
    for path in paths:
        try:
            if os.path.isdir(path):
                for entry in walk(path):
                    total += entry[2]
                    if total >= size:
                        return True
            elif os.path.isfile(path):
                total += os.path.getsize(path)
        except OSError:  # the ingestion itself will report it
            continue
        if total >= size:
            return True
    return False


def serve(tasks: IO[bytes], answers: IO[bytes]) -> None:
    """Answer every task read from ``tasks`` until its end."""
    from datadsn.ingest.run import process_chunk

    def answer(kind: str, value: object) -> bytes:
        return pickle.dumps((kind, value, peak_kib()))

    def send(message: bytes) -> None:
        answers.write(message)
        answers.flush()

    send(answer("ready", os.getpid()))
    while True:
        try:
            task: ChunkTask = pickle.load(tasks)
        except EOFError:
            return
        try:
            message = answer("ok", process_chunk(*task))
        except Exception as exc:  # the parent raises it; a message if it cannot travel
            try:
                message = answer("error", exc)
            except Exception:
                message = answer("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
        send(message)


def main() -> None:
    # Ctrl-C reaches the parent too, which stops its helpers: none prints its own traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Answers go to a private copy of stdout; anything printed goes to stderr instead, so
    # that no stray output (from a library, say) can corrupt them.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
