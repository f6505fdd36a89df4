"""Benchmarks: commands that print figures (speed and memory), never timed tests."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datadsn.simulate import SimulationResult

Log = Callable[[str], object]

# Measured with the simulator: bytes of DSN text per employee for one month, to size a run.
PROBE_EMPLOYEES = 2000


def _simulate_mb(target_mb: float, out: Path, log: Log) -> Path:
    """Write about ``target_mb`` of clean simulated DSN text (one month) under ``out``."""
    from datadsn.simulate import simulate

    def one_month(folder: str, employees: int) -> SimulationResult:
        return simulate(
            out / folder,
            employees=employees,
            months="2024-01..2024-01",
            seed=7,
            noise="none",
            write_dsnp3=False,
        )

    probe = one_month("probe", PROBE_EMPLOYEES)
    employees = max(100, int(target_mb * 1e6 / (probe.bytes / PROBE_EMPLOYEES)))
    log(f"simulation de {employees} salariés (~{target_mb:.0f} Mo de DSN)...")
    return one_month("data", employees).out / "dsn"


def _run_ingest(
    inputs: list[Path], warehouse: Path, workers: int | None
) -> tuple[dict, float, int, float]:
    """One ingestion in a fresh process: summary, wall time, peak RSS (KiB) and CPU seconds.

    The process is measured by a small harness (:func:`_measure`) so that the worker processes
    count too: they are children of the fork server, which the ingestion never waits for.
    """
    summary = warehouse.parent / f"{warehouse.name}.json"
    command = [
        sys.executable,
        "-m",
        "datadsn.cli",
        "ingest",
        *map(str, inputs),
        "-w",
        str(warehouse),
        "--summary",
        str(summary),
    ]
    if workers:
        command += ["--workers", str(workers)]
    env = {**os.environ, "DATADSN_SECRET": "bench-secret"}
    harness = [sys.executable, "-c", "from datadsn.bench import _measure; _measure()", *command]
    done = subprocess.run(harness, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"l'ingestion a échoué : {done.stderr[-2000:]}")
    usage = json.loads(done.stdout)
    return json.loads(summary.read_text()), usage["wall"], usage["peak_kib"], usage["cpu"]


PR_SET_CHILD_SUBREAPER = 36


def _measure() -> None:
    """Run the command given after ``-c``, then print its wall time, CPU and peak RSS as JSON.

    This process becomes a "subreaper": the descendants that outlive the command (the fork
    server, which reaped the workers) are handed to it, and waiting for them adds their CPU.
    CPU sums every process; peak RSS is the largest single process.
    """
    import ctypes

    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux only
    if prctl is None or prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("attention : CPU des processus de travail non compté\n")
    started = time.perf_counter()
    process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode not in (0, 3):
        sys.stderr.write(stderr.decode(errors="replace"))
        raise SystemExit(1)
    while True:  # the orphans handed over, until none is left
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_kib": usage.ru_maxrss}))


def bench_ingest(
    paths: list[Path],
    size_mb: float = 50.0,
    workers: int | None = None,
    repeat: int = 3,
    log: Log = print,
) -> dict:
    """Median throughput of text in -> Parquet written, and peak memory of the run."""
    with tempfile.TemporaryDirectory(prefix="datadsn-bench-") as tmp:
        inputs = paths or [_simulate_mb(size_mb, Path(tmp), log)]
        runs = []
        for i in range(repeat):
            summary, wall, peak_kib, cpu = _run_ingest(inputs, Path(tmp) / f"wh{i}", workers)
            runs.append((summary, wall, peak_kib, cpu))
            log(f"mesure {i + 1}/{repeat} : {summary['mb_per_s']} Mo/s")
    seconds = statistics.median(r[0]["seconds"] for r in runs)
    summary = runs[0][0]
    mb = summary["bytes"] / 1e6
    return {
        "fichiers": summary["files"],
        "mo": round(mb, 1),
        "lignes": summary["lines_read"],
        "secondes_mediane": round(seconds, 3),
        "mo_par_s": round(mb / seconds, 1),
        "lignes_par_s": int(summary["lines_read"] / seconds),
        "secondes_processus_mediane": round(statistics.median(r[1] for r in runs), 3),
        "memoire_pointe_mo": round(max(r[2] for r in runs) / 1024, 1),
        # CPU seconds per MB do not depend on what else runs on the machine.
        "mo_par_seconde_cpu": round(mb / statistics.median(r[3] for r in runs), 1),
        "mesures": repeat,
        "processus": workers or os.cpu_count(),
        "lignes_rejetees": summary["lines_rejected"],
    }
