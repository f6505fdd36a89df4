"""The hard noise profile: each hard case is injected, listed, and written as the case says."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from datadsn.simulate import SimulationResult, noise, simulate
from datadsn.simulate.economy import build_economy
from datadsn.simulate.restructure import restructure
from datadsn.simulate.workdays import day

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


def test_the_dsnp3_extract_of_a_month_holds_what_was_sent_in_it(
    hard_run: SimulationResult,
) -> None:
    """champollion_spec §2.1: month M's extract is what the platform loaded in M's window, so a
    declaration sent 4 months late is in the extract of its sending month, with its own month."""
    anomalies = _truth(hard_run, "anomalies")
    delays = {"late_declaration": 1, "very_late_declaration": 4}
    late = anomalies.filter(pl.col("type").is_in(list(delays)) & pl.col("siret").is_not_null())
    assert set(late["type"]) == set(delays)
    found = 0
    for path in (hard_run.out / "dsnp3").glob("*/champollion_declaration_*.csv"):
        decl = pl.read_csv(
            path, separator=";", quote_char="|", encoding="cp1252", infer_schema=False
        )
        sent = dt.date.fromisoformat(path.parent.name + "-01")
        month = pl.col("DateDeclaration").str.to_date()
        assert (decl["DateChargement"].str.to_date() > sent).all()
        for row in late.iter_rows(named=True):
            delay = delays[row["type"]]
            here = decl.filter((pl.col("SiretEtab") == row["siret"]) & (month == row["mois"]))
            due = row["mois"].year * 12 + row["mois"].month + delay
            if sent.year * 12 + sent.month == due:
                assert here.height >= 1
                found += 1
    assert found == late.height


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
    # only the NIR changes: what the names and birth date say links the two (a change of all
    # three without a block is a kind of its own, several_fields_change_without_block)
    same = ids.group_by("person_id").agg(pl.col("nom", "date_naissance").n_unique())
    assert same["nom"].max() == 1 and same["date_naissance"].max() == 1
    # no S21.G00.31.008 (old NIR) anywhere for them: their old NIRs are never declared as old
    old_nirs = set(ids["nir"].to_list()) - set(_truth(hard_run, "personnes")["nir"].to_list())
    for path in (hard_run.out / "dsn").rglob("*.dsn"):
        text = path.read_text("latin-1")
        assert not any(f"S21.G00.31.008,'{n}'" in text for n in old_nirs)


@pytest.mark.parametrize("kind", ["establishment_split", "establishment_merge"])
def test_a_restructuring_moves_running_contracts_to_another_siret(
    hard_run: SimulationResult, kind: str
) -> None:
    anomalies = _truth(hard_run, "anomalies").filter(pl.col("type").str.starts_with(kind))
    contrats = _truth(hard_run, "contrats")
    etabs = _truth(hard_run, "etablissements")
    moved = anomalies.join(contrats, on="contrat_id").join(
        contrats.select(
            pl.col("contrat_id").alias("contrat_precedent_id"),
            pl.col("siret").alias("old_siret"),
            pl.col("date_fin").alias("old_fin"),
            pl.col("numero").alias("old_numero"),
        ),
        on="contrat_precedent_id",
    )
    assert moved.height == anomalies.height > 0
    # the same contract continues the next day at another SIRET, with its number and 40.001
    assert (moved["siret"] != moved["old_siret"]).all()
    assert (moved["old_fin"] + dt.timedelta(days=1) == moved["date_debut"]).all()
    assert (moved["numero"] == moved["old_numero"]).all()
    assert (moved["date_debut"].dt.day() == 1).all()
    # every contract moved off a site on the same day, with the same block behaviour
    per_site = moved.group_by("old_siret").agg(
        pl.col("date_debut").n_unique(), pl.col("type").n_unique()
    )
    assert (per_site["date_debut"] == 1).all() and (per_site["type"] == 1).all()
    created = moved.join(etabs, on="siret").filter(pl.col("date_creation") == pl.col("date_debut"))
    closed = moved.join(etabs.rename({"siret": "old_siret"}), on="old_siret").filter(
        pl.col("date_fermeture") == pl.col("date_debut")
    )
    if kind == "establishment_split":  # a new site takes half the staff; the old one goes on
        assert created.height == moved.height and closed.height == 0
    else:  # the merged site stops on the merge day; nothing ends there (no closure end)
        assert closed.height == moved.height and created.height == 0
        assert not contrats.filter(
            pl.col("siret").is_in(moved["old_siret"].implode()) & (pl.col("motif_fin") == "012")
        ).height


def test_a_restructuring_with_block_declares_the_former_siret(hard_run: SimulationResult) -> None:
    anomalies = _truth(hard_run, "anomalies").filter(
        pl.col("type").str.starts_with("establishment_")
    )
    contrats = _truth(hard_run, "contrats")
    old = contrats.select(
        pl.col("contrat_id").alias("contrat_precedent_id"), pl.col("siret").alias("old_siret")
    )
    moved = anomalies.join(contrats.drop("siret"), on="contrat_id").join(
        old, on="contrat_precedent_id"
    )
    texts = {p.name: p.read_text("latin-1") for p in (hard_run.out / "dsn").rglob("*.dsn")}
    declared = "\n".join(texts.values())
    for silent in (False, True):
        rows = moved.filter(pl.col("type").str.ends_with("_without_block") == silent)
        assert rows.height > 0
        found = [f"S21.G00.41.012,'{s}'" in declared for s in rows["old_siret"].unique()]
        assert all(found) if not silent else not any(found)


def test_an_economy_without_restructuring_is_left_as_it_is() -> None:
    rng = np.random.default_rng(3)
    eco = build_economy(rng, 30, None, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    w0, w1 = day(dt.date(2023, 1, 1)), day(dt.date(2023, 12, 31))
    same, moves = restructure(rng, eco, w0, w1, 0.0, 0.0, 0.0, 0.0)
    assert len(moves) == 0 and list(same.siret) == list(eco.siret)
    split, moves = restructure(rng, eco, w0, w1, 1.0, 0.0, 0.0, 0.0)
    assert len(moves) > 0 and split.n_etab == eco.n_etab + len(moves)
    # the new sites sit beside their company's others, with a SIRET of their own
    assert (np.diff(split.company) >= 0).all() and len(set(split.siret)) == split.n_etab
    assert (split.siret[moves.dst].astype(str) != split.siret[moves.src].astype(str)).all()
    assert set(eco.siret) < set(split.siret)


def test_an_interim_worker_changes_user_establishment_during_the_mission(
    hard_run: SimulationResult,
) -> None:
    changes = _truth(hard_run, "anomalies").filter(pl.col("type") == "interim_user_change")
    contrats = _truth(hard_run, "contrats").filter(
        pl.col("contrat_id").is_in(changes["contrat_id"].implode())
    )
    assert contrats.height == changes.height > 0
    # user SIRETs (40.046) each (agency SIREN, contract number) declares over the months
    users: dict[tuple[str, str], set[str]] = {}
    for path in (hard_run.out / "dsn").rglob("*.dsn"):
        numero = ""
        for line in path.read_text("latin-1").splitlines():
            if line.startswith("S21.G00.40.009,"):
                numero = line[16:-1]
            elif line.startswith("S21.G00.40.046,"):
                users.setdefault((path.name[:9], numero), set()).add(line[16:-1])
    for row in contrats.iter_rows(named=True):
        declared = users[(row["siret"][:9], row["numero"])]
        assert row["nature"] == "03" and len(declared) == 2
        assert row["siret_utilisateur"] in declared  # the truth keeps the last one
