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


# --- large files --------------------------------------------------------------------------------

BOMB_MB = 1024
# The bomb: a small DSN envoi, then a value of one repeated character (deflate's best case,
# about 1000 to 1) up to 1 GiB: a single line that looks like DSN text.
BOMB_FILLER = b"A" * (1 << 20)


def _single_file(target_mb: float, out: Path, log: Log) -> tuple[Path, bytes]:
    """One DSN file of about ``target_mb``: a single envoi holding the declarations of simulated
    files (simulated up to 100 MB, repeated beyond), with a consistent total (S90). Also returns
    a small simulated file, for the bomb."""
    folder = _simulate_mb(min(target_mb, 100.0), out / "sim", log)
    files = sorted(p for p in folder.rglob("*.dsn"))
    bodies = []
    for path in files:
        text = path.read_bytes()
        start, end = text.index(b"S20.G00.05.001,"), text.index(b"S90.G00.90.001,")
        bodies.append(text[start:end])
    first = files[0].read_bytes()
    header = first[: first.index(b"S20.G00.05.001,")]
    small = min((p.read_bytes() for p in files), key=len)
    body = b"".join(bodies)
    copies = max(1, round(target_mb * 1e6 / len(body)))
    log(f"fichier unique : {copies} x {len(body) / 1e6:.0f} Mo de déclarations")
    lines = header.count(b"\n") + copies * body.count(b"\n") + 2
    decls = copies * len(bodies)
    path = out / "unique.dsn"
    with path.open("wb") as file:
        file.write(header)
        for _ in range(copies):
            file.write(body)
        file.write(b"S90.G00.90.001,'%d'\nS90.G00.90.002,'%d'\n" % (lines, decls))
    return path, small


def _bomb(head: bytes, expanded_mb: int, out: Path) -> Path:
    """A .gz of ``expanded_mb`` MiB: a DSN envoi, then one line of a huge repeated value."""
    import gzip

    path = out / "bombe.dsn.gz"
    head += b"S21.G00.40.006,'"
    remaining = (expanded_mb << 20) - len(head)
    with gzip.open(path, "wb", compresslevel=9) as file:
        file.write(head)
        while remaining > 0:
            file.write(BOMB_FILLER[:remaining])
            remaining -= len(BOMB_FILLER)
    return path


def bench_large_files(size_mb: float = 500.0, log: Log = print) -> dict:
    """Peak memory and throughput of ingesting (a) one large DSN file and (b) a gzip bomb of
    1 GiB, each alone in a fresh process. The bomb must be refused at the guard's limit."""
    with tempfile.TemporaryDirectory(prefix="datadsn-bench-large-") as tmp:
        out = Path(tmp)
        path, small = _single_file(size_mb, out, log)
        bomb = _bomb(small, BOMB_MB, out)
        figures: dict = {}
        for key, inputs in (("fichier", path), ("bombe", bomb)):
            log(f"ingestion de {inputs.name} ({inputs.stat().st_size / 1e6:.1f} Mo sur disque)...")
            summary, wall, cpu = _run_ingest([inputs], out / f"wh-{key}", None)
            mb = inputs.stat().st_size / 1e6
            figures[key] = {
                "mo_sur_disque": round(mb, 1),
                "secondes": round(summary["seconds"], 1),
                "secondes_commande": round(wall, 1),
                "secondes_cpu": round(cpu, 1),
                "mo_par_s": round(mb / summary["seconds"], 1),
                # of the command and its helpers, each from its own start (summary's peak_mb):
                # wait4's figure would include the size of this process when it started them
                "memoire_pointe_mo": summary["peak_mb"],
                "lignes": summary["lines_read"],
                "rapprochement": summary["reconciled"],
                "rejets": summary["rejections"],
            }
        figures["bombe"]["mo_decompresses"] = BOMB_MB * 1.048576
    return figures
