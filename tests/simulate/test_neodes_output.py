"""The NEODES files: every line valid for P26V01, block order, totals, defects exactly listed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from neodes_check import check_file

from datadsn.norm import load_norm
from datadsn.simulate import SimulationResult

NORM = load_norm("P26V01")


def _scan(run: SimulationResult) -> tuple[set[tuple[str, int]], list[str], dict[str, int]]:
    bad: set[tuple[str, int]] = set()
    problems: list[str] = []
    totals = {"files": 0, "lines": 0, "declarations": 0, "multi": 0, "fractions": 0, "crlf": 0}
    totals["fraction_in_multi"] = 0
    for path in sorted((run.out / "dsn").rglob("*.dsn")):
        rel = str(path.relative_to(run.out))
        lines, facts = check_file(NORM, path)
        bad |= {(rel, b.line) for b in lines}
        if facts["lines"] != facts["s90_lines"]:
            problems.append(f"{rel}: S90.001 {facts['s90_lines']} != {facts['lines']} lignes")
        if facts["declarations"] != facts["s90_decl"]:
            problems.append(f"{rel}: S90.002 faux")
        if facts["order_errors"]:
            problems.append(f"{rel}: ordre des blocs")
        totals["files"] += 1
        totals["lines"] += facts["lines"]
        totals["declarations"] += facts["declarations"]
        totals["multi"] += facts["declarations"] > 1
        raw = path.read_bytes()
        fractioned = b"S20.G00.05.003,'12'" in raw or b"S20.G00.05.003,'22'" in raw
        totals["fractions"] += fractioned
        totals["fraction_in_multi"] += fractioned and facts["declarations"] > 1
        totals["crlf"] += b"\r\n" in raw
    return bad, problems, totals


def test_clean_run_every_line_valid(clean_run: SimulationResult) -> None:
    bad, problems, totals = _scan(clean_run)
    assert not bad, sorted(bad)[:10]
    assert not problems, problems[:10]
    assert totals["files"] == clean_run.files
    assert totals["lines"] == clean_run.lines
    assert totals["declarations"] == clean_run.declarations


def test_clean_run_has_no_line_anomalies(clean_run: SimulationResult) -> None:
    anomalies = pl.read_parquet(clean_run.out / "truth" / "anomalies.parquet")
    assert anomalies.filter(pl.col("line").is_not_null()).height == 0


def _assert_defects_listed(run: SimulationResult) -> dict[str, int]:
    bad, problems, totals = _scan(run)
    assert not problems, problems[:10]
    anomalies = pl.read_parquet(run.out / "truth" / "anomalies.parquet")
    listed = anomalies.filter(pl.col("type").is_in(["malformed_line", "unknown_code"]))
    assert listed["line"].null_count() == 0
    expected = {(r["file"], r["line"]) for r in listed.iter_rows(named=True)}
    assert bad == expected
    return totals


def test_heavy_noise_defects_are_exactly_the_listed_ones(noisy_run: SimulationResult) -> None:
    _assert_defects_listed(noisy_run)
    types = set(pl.read_parquet(noisy_run.out / "truth" / "anomalies.parquet")["type"].to_list())
    assert {"malformed_line", "unknown_code", "cancel_and_replace", "late_declaration"} <= types


def test_default_noise_defects_are_exactly_the_listed_ones(default_run: SimulationResult) -> None:
    totals = _assert_defects_listed(default_run)
    # Shapes the ingester must meet: multi-establishment envois, fractions, CRLF files.
    assert totals["multi"] > 0
    assert totals["fractions"] > 0
    assert totals["fraction_in_multi"] == 0  # a fraction is a file of its own
    assert 0 < totals["crlf"] < totals["files"] * 0.25


def test_interim_contracts_name_their_user_establishment(clean_run: SimulationResult) -> None:
    checked = 0
    for path in sorted((clean_run.out / "dsn").rglob("*.dsn")):
        text = path.read_bytes().decode("latin-1")
        if "S21.G00.40.046" not in text:
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        users = {ln[16:-1] for ln in lines if ln.startswith("S21.G00.40.046,")}
        blocks85 = {ln[16:-1] for ln in lines if ln.startswith("S21.G00.85.001,")}
        assert users <= blocks85, path
        assert "S21.G00.11.002,'7820Z'" in text
        checked += 1
    assert checked > 0


def test_late_declarations_sit_in_the_next_month(noisy_run: SimulationResult) -> None:
    anomalies = pl.read_parquet(noisy_run.out / "truth" / "anomalies.parquet")
    late = anomalies.filter(pl.col("type") == "late_declaration")
    assert late.height > 0
    for row in late.iter_rows(named=True):
        folder = Path(row["file"]).parent.name
        declared = row["mois"]
        assert folder > declared.strftime("%Y-%m")
        text = (noisy_run.out / row["file"]).read_bytes().decode("latin-1")
        assert f"S20.G00.05.005,'01{declared:%m%Y}'" in text
