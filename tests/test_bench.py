"""The benchmark commands run and print their figures (speed targets live in the figures)."""

from __future__ import annotations

import json
from itertools import pairwise

from typer.testing import CliRunner

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
