"""The command line end to end: ingest (exit codes, summary, warehouse), sql, norm show."""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from tests import dsn_builder as b

runner = CliRunner()
KEY = "a-test-key-of-at-least-32-bytes!"


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "in" / "ok.dsn"
    path.parent.mkdir()
    path.write_bytes(b.render(b.envoi(b.declaration())))
    return path


def test_ingest_clean_file_exits_0_and_writes_summary(tmp_path, good_file, monkeypatch):
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    wh = tmp_path / "wh"
    summary = tmp_path / "summary.json"
    result = runner.invoke(
        app, ["ingest", str(good_file), "-w", str(wh), "--summary", str(summary)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(summary.read_text())
    for key in ("files", "declarations", "lines_read", "lines_stored", "lines_rejected", "rows"):
        assert key in data
    assert data["files"] == 1 and data["lines_rejected"] == 0
    assert data["lines_read"] == data["lines_stored"] == len(b.envoi(b.declaration()))
    assert data["rows"]["contrat"] == 1
    parquet = list((wh / "raw" / "contrat" / "mois_declaration=2024-01").glob("*.parquet"))
    assert len(parquet) == 1
    with duckdb.connect(str(wh / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.individu").fetchone() == (1,)


def test_reingesting_the_same_lot_replaces_it(tmp_path, good_file, monkeypatch):
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    wh = tmp_path / "wh"
    for _ in range(2):
        assert runner.invoke(app, ["ingest", str(good_file.parent), "-w", str(wh)]).exit_code == 0
    out = runner.invoke(
        app, ["sql", "select count(*) as n from raw.contrat", "-w", str(wh), "-f", "json"]
    )
    assert json.loads(out.stdout) == [{"n": 1}]


def test_rejections_exit_3_and_are_queryable(tmp_path, monkeypatch):
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    path = tmp_path / "bad.dsn"
    lines = [(r, "77" if r == "S21.G00.40.007" else v) for r, v in b.envoi(b.declaration())]
    path.write_bytes(b.render(lines))
    wh = tmp_path / "wh"
    assert runner.invoke(app, ["ingest", str(path), "-w", str(wh)]).exit_code == 3
    out = runner.invoke(
        app, ["sql", "select code, rubrique, ligne from raw.rejections", "-w", str(wh), "-f", "csv"]
    )
    assert out.exit_code == 0
    assert "CODE_INCONNU,S21.G00.40.007" in out.stdout


def test_zip_and_gz_archives(tmp_path, monkeypatch):
    import gzip
    import zipfile

    monkeypatch.setenv("DATADSN_SECRET", KEY)
    data = b.render(b.envoi(b.declaration()))
    with zipfile.ZipFile(tmp_path / "lot.zip", "w") as archive:
        archive.writestr("a.dsn", data)
        archive.writestr("sub/b.dsn", b.render(b.envoi(b.declaration(nic="00020"))))
    (tmp_path / "c.dsn.gz").write_bytes(gzip.compress(data))
    summary = tmp_path / "s.json"
    result = runner.invoke(
        app,
        [
            "ingest",
            str(tmp_path / "lot.zip"),
            str(tmp_path / "c.dsn.gz"),
            "-w",
            str(tmp_path / "wh"),
            "--summary",
            str(summary),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(summary.read_text())["files"] == 3


def test_usage_errors_exit_2(tmp_path, good_file, monkeypatch):
    monkeypatch.delenv("DATADSN_SECRET", raising=False)
    monkeypatch.delenv("DATADSN_SECRET_FILE", raising=False)
    missing_secret = runner.invoke(app, ["ingest", str(good_file), "-w", str(tmp_path / "w")])
    assert missing_secret.exit_code == 2
    assert "DATADSN_SECRET" in missing_secret.output
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    missing_path = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "-w", str(tmp_path / "w")])
    assert missing_path.exit_code == 2 and "introuvable" in missing_path.output
    assert runner.invoke(app, ["ingest"]).exit_code == 2


def test_datadsn_home_sets_the_default_warehouse(tmp_path, good_file, monkeypatch):
    monkeypatch.setenv("DATADSN_SECRET", KEY)
    monkeypatch.setenv("DATADSN_HOME", str(tmp_path / "home"))
    assert runner.invoke(app, ["ingest", str(good_file)]).exit_code == 0
    assert (tmp_path / "home" / "warehouse" / "catalog.duckdb").exists()


def test_norm_show_prints_rubrique_and_codes():
    result = runner.invoke(app, ["norm", "show", "S21.G00.40.007"])
    assert result.exit_code == 0
    assert "Nature du contrat" in result.output and "Contrat de mission" in result.output
    assert runner.invoke(app, ["norm", "show", "S99.G00.00.001"]).exit_code == 2


def test_reingesting_after_consolidation_keeps_the_quality_views(tmp_path, good_file):
    """Each command runs in its own process: the catalogue must not depend on what was imported."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATADSN_SECRET": KEY}
    wh = str(tmp_path / "wh")

    def datadsn(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "datadsn.cli", *args, "-w", wh]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    assert datadsn("ingest", str(good_file)).returncode == 0
    assert datadsn("consolidate", "--through", "2024-01").returncode == 0
    other = tmp_path / "other.dsn"
    other.write_bytes(b.render(b.envoi(b.declaration(nic="00020"))))
    assert datadsn("ingest", str(other)).returncode == 0
    out = datadsn("sql", "select count(*) as n from contrats", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": 1}]
