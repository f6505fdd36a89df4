"""Benchmarks: commands that print figures (speed and memory), never timed tests."""

from __future__ import annotations

import json
import os
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
) -> tuple[dict, float, float]:
    """One ingestion in a fresh process: summary, wall time and CPU seconds.

    The command waits for its helper processes, and Linux adds the usage of a process's reaped
    children to its own: the CPU time wait4 returns covers all of the work. Its peak memory is
    that of the largest process only; the summary's ``peak_mb`` adds up every process's peak.
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
    env = {**os.environ, "DATADSN_SECRET": "bench-secret-" + "0" * 32}
    with tempfile.TemporaryFile() as stderr:  # a file: a pipe could fill up and block it
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) not in (0, 3):
            stderr.seek(0)
            raise RuntimeError(f"l'ingestion a échoué : {stderr.read().decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return json.loads(summary.read_text()), wall, cpu


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
            summary, wall, cpu = _run_ingest(inputs, Path(tmp) / f"wh{i}", workers)
            runs.append((summary, wall, cpu))
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
        # the whole command: interpreter start, imports and exit included
        "mo_par_s_commande": round(mb / statistics.median(r[1] for r in runs), 1),
        "memoire_pointe_mo": max(r[0]["peak_mb"] for r in runs),
        # CPU seconds per MB do not depend on what else runs on the machine.
        "mo_par_seconde_cpu": round(mb / statistics.median(r[2] for r in runs), 1),
        "mesures": repeat,
        "fils": workers or os.cpu_count(),
        "lignes_rejetees": summary["lines_rejected"],
    }
