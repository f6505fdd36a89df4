"""The benchmark commands run and print their figures (speed targets live in the figures)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from datadsn.cli import app


def test_bench_ingest_prints_figures():
    result = CliRunner().invoke(
        app, ["bench", "ingest", "--size-mb", "1", "--repeat", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["mo"] > 0.5 and figures["lignes"] > 10_000
    assert figures["mo_par_s"] > 0 and figures["memoire_pointe_mo"] > 0
    assert figures["lignes_rejetees"] == 0
