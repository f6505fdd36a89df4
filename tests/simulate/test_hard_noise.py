"""The hard noise profile: each hard case is injected, listed, and written as the case says."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import polars as pl
import pytest

from datadsn.simulate import SimulationResult, noise, simulate

HARD_KINDS = {
    f.name for f in fields(noise.NoiseProfile) if getattr(noise.NoiseProfile(), f.name) == 0
}


@pytest.fixture(scope="module")
def hard_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """The hard profile with its own cases 20 times as frequent (at most always), so that a
    small economy has each of them."""
    boosted = replace(noise.HARD, **{k: min(1.0, getattr(noise.HARD, k) * 20) for k in HARD_KINDS})
    saved = dict(noise.PROFILES)
    noise.PROFILES["hard_test"] = boosted
    try:
        out = tmp_path_factory.mktemp("sim_hard")
        return simulate(
            out,
            employers=40,
            months="2023-01..2023-08",
            seed=9,
            noise="hard_test",
            write_dsnp3=False,
        )
    finally:
        noise.PROFILES.clear()
        noise.PROFILES.update(saved)


def _truth(run: SimulationResult, table: str) -> pl.DataFrame:
    return pl.read_parquet(run.out / "truth" / f"{table}.parquet")


def test_every_hard_case_is_listed(hard_run: SimulationResult) -> None:
    listed = set(_truth(hard_run, "anomalies")["type"].to_list())
    assert listed >= HARD_KINDS


def test_very_late_declarations_are_sent_four_months_later(hard_run: SimulationResult) -> None:
    late = _truth(hard_run, "anomalies").filter(pl.col("type") == "very_late_declaration")
    assert late.height > 0
    for row in late.iter_rows(named=True):
        sent = row["file"].split("/")[1]
        month = row["mois"]
        assert sent == f"{month.year + (month.month + 3) // 12}-{(month.month + 3) % 12 + 1:02d}"
        assert (hard_run.out / row["file"]).exists()


def test_a_cascade_replaces_twice_and_the_last_is_right(hard_run: SimulationResult) -> None:
    cascades = _truth(hard_run, "anomalies").filter(
        pl.col("type") == "cascade_and_replace_cascade".replace("cascade_and", "cancel_and")
    )
    assert cascades.height > 0
    last = Path(hard_run.out / cascades["file"][0])
    assert last.name.endswith("_ar3.dsn")
    texts = {
        n: (last.parent / last.name.replace("_ar3", s)).read_text("latin-1")
        for n, s in ((1, ""), (2, "_ar2"), (3, "_ar3"))
    }
    assert "S20.G00.05.004,'3'" in texts[3] and "S20.G00.05.004,'2'" in texts[2]
    amounts = {
        n: [ln for ln in t.splitlines() if ln.startswith("S21.G00.51.013")]
        for n, t in texts.items()
    }
    assert amounts[1] == amounts[2] != amounts[3]


def test_nirless_persons_never_declare_a_nir(hard_run: SimulationResult) -> None:
    anomalies = _truth(hard_run, "anomalies")
    nirless = anomalies.filter(pl.col("type").str.starts_with("name_change_without_nir"))[
        "person_id"
    ]
    ids = _truth(hard_run, "identites_declarees").filter(
        pl.col("person_id").is_in(nirless.implode())
    )
    assert ids.height > 0 and ids["nir"].null_count() == ids.height
    assert ids.group_by("person_id").agg(pl.col("nom").n_unique())["nom"].max() == 2


def test_a_nir_corrected_without_block_declares_two_nirs_and_no_old_one(
    hard_run: SimulationResult,
) -> None:
    anomalies = _truth(hard_run, "anomalies")
    fixed = anomalies.filter(pl.col("type") == "nir_correction_without_block")["person_id"]
    ids = _truth(hard_run, "identites_declarees").filter(pl.col("person_id").is_in(fixed.implode()))
    assert ids.group_by("person_id").agg(pl.col("nir").n_unique())["nir"].min() == 2
    # no S21.G00.31.008 (old NIR) anywhere for them: their old NIRs are never declared as old
    old_nirs = set(ids["nir"].to_list()) - set(_truth(hard_run, "personnes")["nir"].to_list())
    for path in (hard_run.out / "dsn").rglob("*.dsn"):
        text = path.read_text("latin-1")
        assert not any(f"S21.G00.31.008,'{n}'" in text for n in old_nirs)
