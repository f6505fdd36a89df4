"""``datadsn bench consolidate --fresh``: the production path, each month its own command.

The monthly production run is one ``datadsn consolidate --month M`` in a fresh process: it pays
the interpreter, the imports, the checks, the steps' dependencies and the catalogue rebuilt after
publishing, on top of the month itself. This benchmark simulates an economy (sized like
``datadsn simulate``), ingests it once, then runs every month as that command and reports, per
month, its wall and CPU time, CPU microseconds per employee-month, the peak memory of the
command, and its profile (which the command writes with its hidden ``--profile-json``).

With ``baseline`` (the ``src`` folder of another checkout, main say), each month also runs as
that code's command on the same raw data in a warehouse of its own, alternately with this one,
``repeat`` times each (a month run again replaces itself): the machine's drift hits both, and
the ratios are taken from medians. From 3 months on, the first, second and last months then
run again in turn (``alterne``): the ratios of the growth with the history come from them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from datadsn.engine.warehouse import Warehouse
from datadsn.resources import peak_kib

if TYPE_CHECKING:
    from datadsn.quality.consolidate import RunSummary

console = Console()
STARTUP = "démarrage (interpréteur, imports)"
# Runs the command in a grandchild and reports its own resource usage: a child's peak memory
# (ru_maxrss) counts the memory of the process that spawned it, since Python spawns children
# by vfork, so the command is forked from this small process instead of the benchmark's.
_LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": time.perf_counter() - started,
               "cpu": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss}, out)
"""
# Imported once with bytecode writing on, before the timed runs: a production install has its
# bytecode compiled, and this machine sets PYTHONDONTWRITEBYTECODE (every fresh process would
# compile its modules again, 0.7 s or more).
_WARM = "import datadsn.cli, datadsn.quality.consolidate, datadsn.quality.snapshot, datadsn.norm"
ALTERNATED = 3  # rounds of the first, second and last months run again in turn


def write_profile(
    path: Path, seconds: float, fixed: dict[str, float], summaries: list[RunSummary]
) -> None:
    """The profile of one ``datadsn consolidate`` command (``--profile-json``): the command's
    seconds, its fixed costs, and of each step and fixed cost of each month its seconds, its
    CPU seconds where they can be told apart (``RunSummary.cpu``) and the peak memory of the
    process when it ended (MiB)."""
    profile = {
        "commande": seconds,
        "fixes": fixed,
        "mois": {s.month: s.seconds for s in summaries},
        "cpu": {s.month: s.cpu for s in summaries},
        "pic_mio": {s.month: s.peak_mib for s in summaries},
        "memoire_pointe_ko": peak_kib(),
    }
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")


def _env(source: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def _run(
    store: Warehouse, month: str, source: Path | None, work: Path, engine: tuple[str, ...] = ()
) -> dict:
    """One ``datadsn consolidate --month`` in a fresh process: wall, CPU, peak, profile."""
    usage, profile = work / "usage.json", work / "profil.json"
    profile.unlink(missing_ok=True)
    command = ["-m", "datadsn.cli", "consolidate", "--month", month, "-w", str(store.root)]
    command += engine
    if source is None:  # the code under test writes its profile; a baseline may not know how
        command += ["--profile-json", str(profile)]
    with tempfile.TemporaryFile() as stderr:  # a file: a pipe could fill up and block it
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(usage), *command],
            env=_env(source),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            check=True,
        )
        figures = json.loads(usage.read_text())
        if figures["code"] != 0:
            stderr.seek(0)
            raise RuntimeError(f"la consolidation a échoué : {stderr.read().decode()[-2000:]}")
    if profile.exists():
        figures["profil"] = json.loads(profile.read_text(encoding="utf-8"))
    return figures


# Columns that say when and by which version a run was made, not what it found.
_RUN_STAMPS = {"chargements": "debut, fin, version"}


def differing_tables(first: Warehouse, second: Warehouse, month: str) -> list[str]:
    """The tables whose published content in the snapshot ``month`` differs between two
    warehouses (rows compared as multisets, the run's time stamps left out)."""
    import duckdb

    from datadsn.quality import history, snapshot
    from datadsn.quality.schema import TABLES

    out = []
    with duckdb.connect() as con:
        for table in TABLES:
            sides = [
                history.table_sql(snapshot.snapshot_dir(w, month), table) for w in (first, second)
            ]
            if sides[0] is None or sides[1] is None:
                if sides[0] != sides[1]:
                    out.append(table)
                continue
            stamps = _RUN_STAMPS.get(table)
            a, b = (f"SELECT * {f'EXCLUDE ({stamps}) ' if stamps else ''}FROM ({s})" for s in sides)
            row = con.execute(
                f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) "
                f"+ (SELECT count(*) FROM ({b} EXCEPT ALL {a}))"
            ).fetchone()
            if row is None or row[0]:
                out.append(table)
    return out


def _profile_row(run: dict, key: str = "mois") -> dict[str, float]:
    """Per cost of one command: its seconds (start-up, fixed costs, then each step), or with
    ``key`` ``cpu`` its CPU seconds, ``pic_mio`` the peak memory when it ended (the costs a
    profile of an older version lacks are left out)."""
    profile = run["profil"]
    row = {STARTUP: run["wall"] - profile["commande"], **profile["fixes"]} if key == "mois" else {}
    for figures in profile.get(key, {}).values():
        row.update(figures)
    return row


def bench_fresh(
    employers: int | None,
    employees: int | None,
    months: int,
    repeat: int = 1,
    baseline: Path | None = None,
    show: bool = True,
    engine: str | None = None,
    master: str | None = None,
) -> dict:
    """Simulate, ingest once, then each month as its own command (``--engine`` and ``--master``
    passed on when given); returns the figures."""
    from datadsn.bench.consolidate import month_range, on_raw
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest
    from datadsn.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="datadsn-bench-") as tmp:
        root = Path(tmp)
        sim = simulate(
            root / "sim",
            employers=employers,
            employees=employees,
            months=month_range(months),
            seed=7,
            write_dsnp3=False,
        )
        store = Warehouse(root / "warehouse")
        ingest([root / "sim" / "dsn"], store, Secret(b"bench", demo=True))
        variants: dict[str, tuple[Warehouse, Path | None]] = {"nouveau": (store, None)}
        if baseline is not None:
            variants["reference"] = (on_raw(root / "reference", store), baseline)
        for _, source in variants.values():
            subprocess.run([sys.executable, "-c", _WARM], env=_env(source), check=True)
        runs: dict[str, dict[str, list[dict]]] = {name: {} for name in variants}
        differing: dict[str, list[str]] = {}
        options = (
            *(("--engine", engine) if engine else ()),
            *(("--master", master) if master else ()),
        )
        for month in sorted(sim.counts_by_month):
            for _ in range(max(1, repeat)):
                for name, (warehouse, source) in variants.items():
                    run = _run(warehouse, month, source, root, options)
                    runs[name].setdefault(month, []).append(run)
            if baseline is not None:
                differing[month] = differing_tables(store, variants["reference"][0], month)
        ordered = sorted(sim.counts_by_month)
        alternated = _first_second_last(store, ordered, root, options) if len(ordered) > 2 else {}
    result = _figures(sim.counts_by_month, runs, employers, employees)
    if alternated:
        result["alterne"] = _alternated_figures(alternated, sim.counts_by_month, ordered)
    if baseline is not None:
        # every published table of every month, this code against the baseline's
        result["tables_differentes"] = {m: t for m, t in differing.items() if t}
    if show:
        _print(result)
    return result


def _first_second_last(
    store: Warehouse, months: list[str], root: Path, options: tuple[str, ...]
) -> dict[str, list[dict]]:
    """The first month (in a warehouse of its own), the second (in another, on top of the
    first) and the last, each run again ``ALTERNATED`` times in turn (a month run again replaces
    itself). The months of a long history run hours apart, and this machine's speed drifts by 2
    to 4 times in that time: the growth with the history is read from these alternated runs."""
    from datadsn.bench.consolidate import on_raw

    first, second = on_raw(root / "premier", store), on_raw(root / "deuxieme", store)
    for month in months[:2]:
        _run(second, month, None, root, options)
    runs: dict[str, list[dict]] = {"premier": [], "deuxieme": [], "dernier": []}
    for _ in range(ALTERNATED):
        runs["premier"].append(_run(first, months[0], None, root, options))
        runs["deuxieme"].append(_run(second, months[1], None, root, options))
        runs["dernier"].append(_run(store, months[-1], None, root, options))
    return runs


def _alternated_figures(
    runs: dict[str, list[dict]], counts: dict[str, int], months: list[str]
) -> dict:
    """Medians of the alternated runs; the ratios per employee-month as well, since the
    economy grows along the history."""
    cpu = {name: _median(rs, "cpu") for name, rs in runs.items()}
    wall = {name: _median(rs, "wall") for name, rs in runs.items()}
    picked = {"premier": months[0], "deuxieme": months[1], "dernier": months[-1]}
    em = {name: counts[month] for name, month in picked.items()}
    figures: dict = {"passages": ALTERNATED}
    for name in runs:
        figures[name] = {"cpu": round(cpu[name], 3), "secondes": round(wall[name], 3)}
    for base in ("premier", "deuxieme"):
        figures[f"dernier_sur_{base}"] = {
            "cpu": round(cpu["dernier"] / cpu[base], 3),
            "secondes": round(wall["dernier"] / wall[base], 3),
            "cpu_par_salarie_mois": round(
                cpu["dernier"] / em["dernier"] / (cpu[base] / em[base]), 3
            ),
        }
    return figures


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _figures(
    counts: dict[str, int],
    runs: dict[str, dict[str, list[dict]]],
    employers: int | None,
    employees: int | None,
) -> dict:
    per_month = []
    for month, mine in runs["nouveau"].items():
        em = counts.get(month, 0)
        row: dict = {
            "mois": month,
            "salaries_mois": em,
            "secondes": round(_median(mine, "wall"), 3),
            "cpu": round(_median(mine, "cpu"), 3),
            "us_cpu_par_salarie_mois": round(_median(mine, "cpu") / em * 1e6, 1) if em else None,
            "memoire_pointe_mo": round(max(r["peak_kb"] for r in mine) / 1024),
        }
        if "reference" in runs:
            theirs = runs["reference"][month]
            row["reference"] = {
                "secondes": round(_median(theirs, "wall"), 3),
                "cpu": round(_median(theirs, "cpu"), 3),
                "memoire_pointe_mo": round(max(r["peak_kb"] for r in theirs) / 1024),
            }
            row["nouveau_sur_reference_cpu"] = round(row["cpu"] / row["reference"]["cpu"], 3)
            row["nouveau_sur_reference_secondes"] = round(
                row["secondes"] / row["reference"]["secondes"], 3
            )
        per_month.append(row)
    first, last = per_month[0], per_month[-1]
    profiles = {m: [_profile_row(r) for r in rs] for m, rs in runs["nouveau"].items()}
    costs = list(dict.fromkeys(k for rows in profiles.values() for row in rows for k in row))
    per_cost = {
        key: {m: [_profile_row(r, key) for r in rs] for m, rs in runs["nouveau"].items()}
        for key in ("cpu", "pic_mio")
    }
    total_em = sum(r["salaries_mois"] for r in per_month)
    total_cpu = sum(r["cpu"] for r in per_month)
    result: dict = {
        "employeurs": employers,
        "effectif": employees,
        "salaries_mois": total_em,
        "par_mois": per_month,
        "mois_n_sur_mois_1": {
            "secondes": round(last["secondes"] / first["secondes"], 3),
            "cpu": round(last["cpu"] / first["cpu"], 3),
        },
        "us_cpu_par_salarie_mois": round(total_cpu / total_em * 1e6, 1) if total_em else None,
        "memoire_pointe_mo": max(r["memoire_pointe_mo"] for r in per_month),
        # seconds per cost and month (median of the month's runs), heaviest first
        "profil": dict(
            sorted(
                (
                    (
                        cost,
                        {
                            m: round(statistics.median(row.get(cost, 0.0) for row in rows), 3)
                            for m, rows in profiles.items()
                        },
                    )
                    for cost in costs
                ),
                key=lambda kv: -sum(kv[1].values()),
            )
        ),
        # CPU seconds of each step and fixed cost that has them (medians), and the peak memory
        # of the command when it ended (MiB, the highest of the month's runs)
        "profil_cpu": _per_cost(per_cost["cpu"], statistics.median, 3),
        "profil_pic_mio": _per_cost(per_cost["pic_mio"], max, 0),
    }
    if "reference" in runs:
        result["nouveau_sur_reference_cpu_median"] = round(
            statistics.median(r["nouveau_sur_reference_cpu"] for r in per_month), 3
        )
        result["nouveau_sur_reference_secondes_median"] = round(
            statistics.median(r["nouveau_sur_reference_secondes"] for r in per_month), 3
        )
    return result


def _per_cost(
    rows_by_month: dict[str, list[dict[str, float]]],
    pick: Callable[[list[float]], float],
    digits: int,
) -> dict[str, dict[str, float]]:
    """cost -> month -> ``pick`` of the month's runs that have the cost."""
    costs = dict.fromkeys(k for rows in rows_by_month.values() for row in rows for k in row)
    return {
        cost: {
            m: round(pick([row[cost] for row in rows if cost in row]), digits)
            for m, rows in rows_by_month.items()
            if any(cost in row for row in rows)
        }
        for cost in costs
    }


def _print(result: dict) -> None:
    table = Table(title="Consolidation, un processus par mois (datadsn consolidate --month)")
    for column in ("mois", "salariés-mois", "s", "CPU s", "µs CPU / salarié-mois", "pic Mo"):
        table.add_column(column, justify="right")
    reference = "reference" in result["par_mois"][0]
    if reference:
        table.add_column("référence s / CPU s", justify="right")
        table.add_column("nouveau / référence (CPU)", justify="right")
    for row in result["par_mois"]:
        cells = [
            row["mois"],
            f"{row['salaries_mois']:,}",
            f"{row['secondes']:.2f}",
            f"{row['cpu']:.2f}",
            str(row["us_cpu_par_salarie_mois"]),
            str(row["memoire_pointe_mo"]),
        ]
        if reference:
            ref = row["reference"]
            cells += [
                f"{ref['secondes']:.2f} / {ref['cpu']:.2f}",
                str(row["nouveau_sur_reference_cpu"]),
            ]
        table.add_row(*cells)
    console.print(table)
    months = [row["mois"] for row in result["par_mois"]]
    profile = Table(title="Profil (par mois, médianes ; pic : mémoire du processus à la fin)")
    profile.add_column("coût")
    for unit in ("s", "CPU s"):
        for m in (months[0], months[-1]):
            profile.add_column(f"{m[2:]} {unit}", justify="right")
    profile.add_column(f"{months[-1][2:]} pic Mio", justify="right")
    cpu, peak = result["profil_cpu"], result["profil_pic_mio"]
    for cost, seconds in list(result["profil"].items())[:25]:
        profile.add_row(
            cost,
            f"{seconds[months[0]]:.3f}",
            f"{seconds[months[-1]]:.3f}",
            *(_cell(cpu, cost, m, "{:.3f}") for m in (months[0], months[-1])),
            _cell(peak, cost, months[-1], "{:.0f}"),
        )
    console.print(profile)
    ratio = result["mois_n_sur_mois_1"]
    console.print(
        f"{result['us_cpu_par_salarie_mois']} µs CPU par salarié-mois ; mois {months[-1]} / "
        f"mois {months[0]} : [bold]{ratio['cpu']}[/] en CPU, {ratio['secondes']} en durée ; "
        f"mémoire de pointe {result['memoire_pointe_mo']} Mo"
    )
    if "alterne" in result:
        alt = result["alterne"]
        console.print(
            f"Passages alternés ({alt['passages']} de chaque, médianes) : mois {months[-1]} / "
            f"mois {months[0]} [bold]{alt['dernier_sur_premier']['cpu']}[/] en CPU "
            f"({alt['dernier_sur_premier']['cpu_par_salarie_mois']} par salarié-mois), / mois "
            f"{months[1]} [bold]{alt['dernier_sur_deuxieme']['cpu']}[/] en CPU "
            f"({alt['dernier_sur_deuxieme']['cpu_par_salarie_mois']} par salarié-mois)"
        )
    if reference:
        console.print(
            f"Nouveau / référence (médiane des mois) : {result['nouveau_sur_reference_cpu_median']}"
            f" en CPU, {result['nouveau_sur_reference_secondes_median']} en durée ; tables "
            "publiées : "
            + (
                "identiques à la référence, tous les mois"
                if not result["tables_differentes"]
                else f"[red]différentes[/] {result['tables_differentes']}"
            )
        )


def _cell(figures: dict[str, dict[str, float]], cost: str, month: str, form: str) -> str:
    value = figures.get(cost, {}).get(month)
    return "-" if value is None else form.format(value)
