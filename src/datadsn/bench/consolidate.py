"""``datadsn bench consolidate``: consolidation speed on a simulated economy.

Prints employee-months per second per step (employee-months of the month / step time) and the
cost of the last month over the first, the population being about the same every month: in wall
time, and in CPU time of the process (all its threads). The machine's speed drifts during a run
(one run of the 24 months here saw its months slow down from 0.66 s to 1.95 s, another not at
all), so the ratio is not taken from the history: after it, the first month (in a fresh
warehouse on the same raw data) and the last month (a month run again replaces itself) run
alternately ``repeat`` times, and their medians are compared.

The first month has no state to read, merge and publish; every later month has. The second
month (run again on top of the first, in a warehouse of its own) is timed in the same rounds, so
that the growth with history (last over second) reads apart from the cost of having a state.
"""

from __future__ import annotations

import resource
import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from datadsn import months as month_list
from datadsn.engine.warehouse import Warehouse

if TYPE_CHECKING:
    from datadsn.quality.consolidate import RunSummary

console = Console()
FIRST_MONTH = "2023-01"


def month_range(count: int) -> str:
    return f"{FIRST_MONTH}..{month_list.shift(FIRST_MONTH, count - 1)}"


def bench_consolidate(
    employees: int,
    months: int,
    repeat: int = 3,
    show: bool = True,
    engine: str | None = None,
    master: str | None = None,
) -> dict:
    """Simulate, ingest, consolidate month by month on ``engine``; returns the figures. On
    Spark the CPU times are the Python driver's only (the JVM is another process)."""
    from datadsn.engine.backends import engine_name
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest
    from datadsn.norm import load_norm
    from datadsn.quality.consolidate import pending_months
    from datadsn.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="datadsn-bench-") as tmp:
        root = Path(tmp)
        sim = simulate(
            root / "sim", employees=employees, months=month_range(months), seed=1, write_dsnp3=False
        )
        store = Warehouse(root / "warehouse")
        ingest([root / "sim" / "dsn"], store, Secret(b"bench", demo=True))
        per_month = sim.counts_by_month
        load_norm()  # cached once per process: not a cost of the first month
        runs = []
        cpu: list[float] = []
        todo = pending_months(store, max(per_month))
        run = engine_name(engine), master
        for month in todo:
            summary, spent = _timed(store, month, *run)
            runs.append((month, per_month.get(month, 0), summary))
            cpu.append(spent)
        second_store = on_raw(root / "deuxieme-mois", store)
        if len(todo) > 1:
            _timed(second_store, todo[0], *run)
        rounds = []  # (first month, second month, last month), each (wall, CPU)
        for i in range(max(1, repeat)):
            run_1, cpu_1 = _timed(on_raw(root / f"premier-mois-{i}", store), todo[0], *run)
            run_2, cpu_2 = _timed(second_store, todo[min(1, len(todo) - 1)], *run)
            run_n, cpu_n = _timed(store, todo[-1], *run)
            rounds.append(
                (
                    (run_1.total_seconds, cpu_1),
                    (run_2.total_seconds, cpu_2),
                    (run_n.total_seconds, cpu_n),
                )
            )
    steps: dict[str, float] = {}
    for _, _, s in runs:
        for name, seconds in s.seconds.items():
            steps[name] = steps.get(name, 0.0) + seconds
    total_em = sum(em for _, em, _ in runs)
    total_s = sum(s.total_seconds for _, _, s in runs)
    # per month (first, second, last): median wall time, median CPU time
    medians = [[statistics.median(r[i][k] for r in rounds) for k in (0, 1)] for i in range(3)]
    (first, first_cpu), (second, second_cpu), (last, last_cpu) = medians
    result = {
        "moteur": run[0],
        "salaries_mois": total_em,
        "mois": len(runs),
        "secondes": round(total_s, 3),
        "salaries_mois_par_seconde": round(total_em / total_s) if total_s else 0,
        "cout_dernier_sur_premier": round(last / first, 3) if first else 0.0,
        "secondes_cpu": round(sum(cpu), 3),
        "cout_cpu_dernier_sur_premier": round(last_cpu / first_cpu, 3) if first_cpu else 0.0,
        "cout_dernier_sur_deuxieme": round(last / second, 3) if second else 0.0,
        "cout_cpu_dernier_sur_deuxieme": round(last_cpu / second_cpu, 3) if second_cpu else 0.0,
        "premier_et_dernier_mois_alternes": [
            {
                "premier": [round(v, 3) for v in f],
                "deuxieme": [round(v, 3) for v in d],
                "dernier": [round(v, 3) for v in la],
            }
            for f, d, la in rounds
        ],
        "par_mois": [
            {
                "mois": m,
                "salaries_mois": em,
                "secondes": round(s.total_seconds, 3),
                "cpu": round(c, 3),
            }
            for (m, em, s), c in zip(runs, cpu, strict=True)
        ],
        "par_etape": {
            name: round(total_em / sec) if sec else None
            for name, sec in sorted(steps.items(), key=lambda kv: -kv[1])
        },
        "chemin_critique": critical_path({k: v / len(runs) for k, v in steps.items()}),
        "plafond_lecture_publication": _ceiling(total_em, steps),
    }
    if show:
        _print(result, steps)
    return result


def critical_path(seconds: dict[str, float]) -> dict:
    """The chain of pipeline steps, each waiting on the one before, that takes the longest
    (``seconds``: a month's time per step). Steps run two at a time, so a month's pipeline
    lasts at least this long: shortening it is what shows in the wall time."""
    from datadsn.quality.consolidate import _tasks

    tasks, depends, _ = _tasks()
    finish: dict[str, float] = {}
    for task in tasks:
        before = max((finish[n] for n in depends[task.name]), default=0.0)
        finish[task.name] = before + seconds.get(task.name, 0.0)
    chain: list[str] = []
    name: str | None = max(finish, key=lambda n: finish[n])
    while name is not None:
        chain.append(name)
        name = max(depends[name], key=lambda n: finish[n]) if depends[name] else None
    return {
        "secondes_par_mois": round(max(finish.values()), 3),
        "etapes_secondes_par_mois": round(sum(seconds.get(t.name, 0.0) for t in tasks), 3),
        "etapes": {n: round(seconds.get(n, 0.0), 3) for n in reversed(chain)},
    }


def _ceiling(employee_months: int, steps: dict[str, float]) -> int | None:
    """Employee-months per second if the rules cost nothing: what reading the declarations and
    the state, then publishing the snapshot, allow alone (every month does both, one after the
    other)."""
    io = sum(steps.get(name, 0.0) for name in ("lecture des déclarations", "publication"))
    return round(employee_months / io) if io else None


def on_raw(folder: Path, store: Warehouse) -> Warehouse:
    """A fresh warehouse reading the raw data (lot files and manifests) of ``store``."""
    fresh = Warehouse(folder)
    fresh.root.mkdir()
    for data in (*store.data_folders, store.lots):
        if data.exists():
            (fresh.root / data.name).symlink_to(data)
    return fresh


def _timed(
    store: Warehouse, month: str, engine: str = "duckdb", master: str | None = None
) -> tuple[RunSummary, float]:
    """A run and the CPU time of this process (all its threads) it took."""
    from datadsn.quality.consolidate import consolidate

    before = _cpu()
    summary = consolidate(store, month, refresh_catalog=False, engine=engine, master=master)
    return summary, _cpu() - before


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _print(result: dict, steps: dict[str, float]) -> None:
    table = Table(title="Consolidation : salariés-mois par seconde et par étape")
    table.add_column("étape")
    table.add_column("secondes", justify="right")
    table.add_column("salariés-mois/s", justify="right")
    for name, rate in result["par_etape"].items():
        table.add_row(name, f"{steps[name]:.3f}", f"{rate:,}" if rate else "-")
    console.print(table)
    console.print(
        f"Moteur {result['moteur']} : "
        f"{result['salaries_mois']:,} salariés-mois en {result['secondes']:.2f} s : "
        f"[bold]{result['salaries_mois_par_seconde']:,}[/] salariés-mois/s ; "
        f"coût du dernier mois / premier (médianes de "
        f"{len(result['premier_et_dernier_mois_alternes'])} passages alternés) : "
        f"[bold]{result['cout_dernier_sur_premier']}[/] "
        f"(en temps CPU : {result['cout_cpu_dernier_sur_premier']}) ; "
        f"dernier / deuxième, le premier mois avec un état : "
        f"[bold]{result['cout_dernier_sur_deuxieme']}[/] "
        f"(en temps CPU : {result['cout_cpu_dernier_sur_deuxieme']})"
    )
    ceiling = result["plafond_lecture_publication"]
    if ceiling:
        console.print(
            f"Lecture et publication seules : au plus {ceiling:,} salariés-mois/s, "
            "même si les règles ne coûtaient rien"
        )
    path = result["chemin_critique"]
    console.print(
        f"Chemin critique des étapes : {path['secondes_par_mois']} s par mois "
        f"(toutes les étapes : {path['etapes_secondes_par_mois']} s) : "
        + " → ".join(path["etapes"])
    )
