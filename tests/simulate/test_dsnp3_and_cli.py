"""DSNP3 export format, determinism, calendar helpers and the CLI."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app
from datadsn.simulate import SimulationResult, simulate
from datadsn.simulate.dsnp3 import COLUMNS
from datadsn.simulate.workdays import WorkCalendar, day, easter, parse_months


def _read_csv(path: Path) -> pl.DataFrame:
    text = path.read_bytes().decode("cp1252")
    return pl.read_csv(io.StringIO(text), separator=";", quote_char="|", infer_schema=False)


def test_dsnp3_tables_have_the_documented_columns(clean_run: SimulationResult) -> None:
    months = sorted(p.name for p in (clean_run.out / "dsnp3").iterdir())
    assert months == sorted(p.name for p in (clean_run.out / "dsn").iterdir())
    contrats = 0
    for month in months:
        for table, columns in COLUMNS.items():
            path = clean_run.out / "dsnp3" / month / f"champollion_{table}_{month}-01.csv"
            df = _read_csv(path)
            assert df.columns == columns
            assert columns[0] not in df[columns[0]].to_list()  # one header per file
            if table == "contrat":
                contrats += df.height
                assert df["IdContrat"].is_unique().all()
    assert contrats == clean_run.employee_months


def test_dsnp3_paid_hours_add_up_to_the_truth(clean_run: SimulationResult) -> None:
    """Declared activity (days x 7 h) minus corrections equals the true paid hours."""
    total = 0.0
    for path in (clean_run.out / "dsnp3").rglob("champollion_activite_*.csv"):
        df = _read_csv(path).filter(pl.col("TypeActivite") == "01")
        factor = pl.when(pl.col("UniteMesure") == "12").then(7.0).otherwise(1.0)
        total += df.select((pl.col("Mesure").cast(pl.Float64) * factor).sum()).item()
    truth = pl.read_parquet(clean_run.out / "truth" / "heures.parquet")["heures_remunerees"].sum()
    assert abs(total - truth) < 0.01 * max(1.0, truth) / 1000


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", employers=25, months="2024-01..2024-03", seed=9, noise="heavy")
    b = simulate(tmp_path / "b", employers=25, months="2024-01..2024-03", seed=9, noise="heavy")
    c = simulate(tmp_path / "c", employers=25, months="2024-01..2024-03", seed=10, noise="heavy")
    assert a.files > 0
    assert _digest(a.out) == _digest(b.out)
    assert _digest(a.out) != _digest(c.out)


def test_output_layout_and_manifest(clean_run: SimulationResult) -> None:
    out = clean_run.out
    assert (out / "manifest.json").exists()
    for table in (
        "personnes",
        "contrats",
        "heures",
        "remunerations",
        "etablissements",
        "anomalies",
    ):
        assert (out / "truth" / f"{table}.parquet").exists()
    assert all(p.suffix == ".dsn" for p in (out / "dsn").rglob("*") if p.is_file())


def test_calendar_helpers() -> None:
    assert str(easter(2024)) == "2024-03-31"
    assert len(parse_months("2023-01..2024-12")) == 24
    cal = WorkCalendar.build(parse_months("2023-01")[0], parse_months("2024-12")[0])
    import datetime as dt

    # Champollion's verified example: 2023-10-25..2023-11-30 has 5 + 21 working days.
    oct_days = cal.count(day(dt.date(2023, 10, 25)), day(dt.date(2023, 10, 31)))
    nov_days = cal.count(day(dt.date(2023, 11, 1)), day(dt.date(2023, 11, 30)))
    assert (int(oct_days), int(nov_days)) == (5, 21)


def test_cli_rejects_bad_months(tmp_path: Path) -> None:
    app = datadsn_app

    @app.command("noop")
    def noop() -> None:  # a second command keeps 'simulate' a named subcommand
        pass

    runner = CliRunner()
    result = runner.invoke(
        app, ["simulate", "--months", "2024-13..2024-01", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    result = runner.invoke(app, ["simulate", "--noise", "bizarre", "--out", str(tmp_path)])
    assert result.exit_code == 2
    result = runner.invoke(
        app,
        ["simulate", "--employers", "5", "--months", "2024-01..2024-02", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "Simulation terminée" in result.output
