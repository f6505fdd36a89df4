"""`make demo` end to end on a small economy: simulate, ingest, consolidate, evaluate, publish."""

from __future__ import annotations

from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.indicators import public


def test_demo_runs_the_whole_chain(tmp_path):
    args = ["demo", "--home", str(tmp_path), "--employers", "25", "--months", "2024-01..2024-03"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Rapprochement" in result.output and "OK" in result.output
    assert "contrats : F1" in result.output
    assert (tmp_path / "warehouse" / "quality" / "CURRENT").read_text().strip() == "2024-03"
    published = public.latest(tmp_path / "warehouse")
    assert published is not None and (published.month, published.version) == ("2024-03", 1)
