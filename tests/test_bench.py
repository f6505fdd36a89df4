"""The benchmark commands run and print their figures (speed targets live in the figures)."""

from __future__ import annotations

import json
import os
import shutil
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import datadsn
from datadsn.cli import app
from datadsn.quality.consolidate import _tasks


def test_bench_ingest_prints_figures():
    result = CliRunner().invoke(
        app, ["bench", "ingest", "--size-mb", "1", "--repeat", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["mo"] > 0.5 and figures["lignes"] > 10_000
    assert figures["mo_par_s"] > 0 and figures["memoire_pointe_mo"] > 0
    assert figures["lignes_rejetees"] == 0


def test_bench_consolidate_alternates_the_first_and_last_month():
    result = CliRunner().invoke(
        app,
        ["bench", "consolidate", "--employees", "150", "--months", "3", "--repeat", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["mois"] == 3 and figures["salaries_mois"] > 300
    pairs = figures["premier_et_dernier_mois_alternes"]
    assert len(pairs) == 2
    assert all(len(p["premier"]) == len(p["deuxieme"]) == len(p["dernier"]) == 2 for p in pairs)
    assert figures["cout_dernier_sur_premier"] > 0 and figures["cout_cpu_dernier_sur_premier"] > 0
    assert figures["cout_dernier_sur_deuxieme"] > 0 and figures["cout_cpu_dernier_sur_deuxieme"] > 0
    # reading and publishing alone run faster than the whole month
    assert figures["plafond_lecture_publication"] > figures["salaries_mois_par_seconde"]
    path = figures["chemin_critique"]
    assert 0 < path["secondes_par_mois"] <= path["etapes_secondes_par_mois"]
    chain = list(path["etapes"])
    _, depends, _ = _tasks()
    assert chain and all(a in depends[b] for a, b in pairwise(chain))


def test_bench_ingest_large_files_prints_figures(monkeypatch):
    import datadsn.bench.ingest

    # past the guard's 64 MiB, quickly built
    monkeypatch.setattr(datadsn.bench.ingest, "BOMB_MB", 80)
    result = CliRunner().invoke(app, ["bench", "ingest", "--large-file-mb", "2", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    large, bomb = figures["fichier"], figures["bombe"]
    assert large["lignes"] > 50_000 and large["rapprochement"] and large["rejets"] == {}
    assert large["memoire_pointe_mo"] > 0 and large["mo_par_s"] > 0
    assert bomb["rejets"] == {"DECOMPRESSION_EXCESSIVE": 1} and bomb["lignes"] == 0
    assert bomb["mo_sur_disque"] < 1  # 80 MiB in well under 1 MB


def test_bench_portal_prints_figures_with_few_requests(monkeypatch):
    """``bench portal`` serves the demo with ``datadsn serve --prod`` in a subprocess."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        app, ["bench", "portal", "--clients", "2", "--requests", "4", "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["base de données"] == "SQLite"
    for page in ("accueil", "catalogue", "demande (connecté)", "API"):
        assert figures[f"{page} p95 (ms)"] >= figures[f"{page} p50 (ms)"] > 0
        assert figures[f"{page} erreurs"] == 0


def test_bench_portal_percentile_is_nearest_rank():
    from datadsn.bench.portal import percentile

    assert [percentile([1, 2, 3, 4], q) for q in (0.5, 0.95, 1.0)] == [2, 4, 4]


@pytest.mark.slow
def test_bench_consolidate_fresh_runs_each_month_as_a_command_against_a_baseline():
    """Each month is a fresh ``datadsn consolidate --month`` process, alternated with the
    baseline's (here this very code), and every published table is compared."""
    source = Path(datadsn.__file__).parent.parent
    result = CliRunner().invoke(
        app,
        [
            *("bench", "consolidate", "--employers", "4", "--months", "2", "--fresh"),
            *("--baseline", str(source), "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    months = figures["par_mois"]
    assert [m["mois"] for m in months] == ["2023-01", "2023-02"]
    for month in months:
        assert month["salaries_mois"] > 0 and month["cpu"] > 0 and month["secondes"] > 0
        assert month["us_cpu_par_salarie_mois"] > 0
        # the command's own peak, not the benchmark's (which holds the simulation)
        assert 30 < month["memoire_pointe_mo"] < 2000
        assert month["reference"]["cpu"] > 0
    assert figures["tables_differentes"] == {}
    assert figures["mois_n_sur_mois_1"]["cpu"] > 0
    profile = figures["profil"]
    for cost in ("démarrage (interpréteur, imports)", "catalogue", "lecture des déclarations"):
        assert set(profile[cost]) == {"2023-01", "2023-02"}
    assert profile["int_contrats_charges"]["2023-02"] >= 0
    # CPU per fixed cost, and per step where DuckDB gives each step one thread (up to 3 cores),
    # never more than the command's, and the command's memory when each ended
    from datadsn.quality.consolidate import step_threads

    cpu, peak = figures["profil_cpu"], figures["profil_pic_mio"]
    expected = {"publication", "catalogue"} | (
        {"int_contrats_charges"} if step_threads() == 1 else set()
    )
    for month in months:
        costs = [c for c in cpu if month["mois"] in cpu[c]]
        assert expected <= set(costs)
        assert 0 < sum(cpu[c][month["mois"]] for c in costs) <= month["cpu"]
        assert 0 < peak["publication"][month["mois"]] <= month["memoire_pointe_mo"] * 1.05


@pytest.mark.slow
def test_bench_consolidate_fresh_alternates_the_first_second_and_last_months():
    """From 3 months on, the first, second and last months run again in turn and the growth
    with the history is read from the medians of these runs."""
    result = CliRunner().invoke(
        app, ["bench", "consolidate", "--employers", "3", "--months", "3", "--fresh", "--json"]
    )
    assert result.exit_code == 0, result.output
    alt = json.loads(result.stdout)["alterne"]
    assert alt["passages"] == 3
    for name in ("premier", "deuxieme", "dernier"):
        assert alt[name]["cpu"] > 0 and alt[name]["secondes"] > 0
    for ratio in ("dernier_sur_premier", "dernier_sur_deuxieme"):
        expected = alt["dernier"]["cpu"] / alt[ratio.removeprefix("dernier_sur_")]["cpu"]
        assert abs(alt[ratio]["cpu"] - expected) < 0.01
        assert alt[ratio]["cpu_par_salarie_mois"] > 0


def test_differing_tables_finds_a_changed_table(tmp_path: Path):
    from datadsn.bench.fresh import differing_tables
    from datadsn.engine.warehouse import Warehouse
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest
    from datadsn.quality.consolidate import consolidate
    from datadsn.quality.snapshot import snapshot_dir
    from datadsn.simulate import simulate

    simulate(tmp_path / "sim", employers=3, months="2023-01..2023-01", seed=2, write_dsnp3=False)
    first = Warehouse(tmp_path / "a")
    ingest([tmp_path / "sim" / "dsn"], first, Secret(b"x" * 32, demo=False))
    consolidate(first, "2023-01")
    second = Warehouse(tmp_path / "b")
    shutil.copytree(first.root, second.root, symlinks=True)
    assert differing_tables(first, second, "2023-01") == []
    target = (snapshot_dir(second, "2023-01") / "entreprises.parquet").resolve()
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * REPLACE ('autre' AS code_apen) FROM read_parquet('{target}')) "
            f"TO '{target}.new' (FORMAT parquet)"
        )
    os.replace(f"{target}.new", target)
    assert differing_tables(first, second, "2023-01") == ["entreprises"]


def test_bench_consolidate_production_options_need_fresh(tmp_path: Path):
    for args, message in (
        (["--employers", "3"], "--employers"),
        (["--baseline", str(tmp_path)], "--baseline"),
        (["--fresh", "--baseline", str(tmp_path)], "dossier src"),
        (["--fresh", "--engine", "oracle"], "moteur inconnu : oracle"),
    ):
        result = CliRunner().invoke(app, ["bench", "consolidate", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
