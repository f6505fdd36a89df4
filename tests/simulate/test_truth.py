"""Internal consistency of the ground truth tables."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from datadsn.norm import load_norm
from datadsn.simulate import SimulationResult

NIR_RE = load_norm("P26V01").rubriques["S21.G00.30.001"].regexp or ""


def _truth(run: SimulationResult, table: str) -> pl.DataFrame:
    return pl.read_parquet(run.out / "truth" / f"{table}.parquet")


def test_tables_and_keys(default_run: SimulationResult) -> None:
    persons = _truth(default_run, "personnes")
    contracts = _truth(default_run, "contrats")
    etabs = _truth(default_run, "etablissements")
    assert persons["person_id"].is_unique().all()
    assert persons["nir"].is_unique().all()
    assert all(re.fullmatch(NIR_RE, nir) for nir in persons["nir"].to_list())
    sex_digit = persons["nir"].str.slice(0, 1)
    assert (sex_digit == persons["sexe"].str.slice(1, 1)).all()
    assert contracts["contrat_id"].is_unique().all()
    assert contracts["person_id"].is_in(persons["person_id"].implode()).all()
    assert contracts["siret"].is_in(etabs["siret"].implode()).all()
    assert etabs["siret"].is_unique().all()
    assert (etabs["siret"].str.slice(0, 9) == etabs["siren"]).all()


def test_no_overlapping_contracts_of_one_person(default_run: SimulationResult) -> None:
    far = dt.date(2999, 12, 31)
    c = _truth(default_run, "contrats").with_columns(pl.col("date_fin").fill_null(far))
    pairs = c.join(c, on="person_id", suffix="_b").filter(
        (pl.col("contrat_id") < pl.col("contrat_id_b"))
        & (pl.col("date_debut") <= pl.col("date_fin_b"))
        & (pl.col("date_debut_b") <= pl.col("date_fin"))
    )
    assert pairs.height == 0


def test_contract_dates_and_end_motifs(default_run: SimulationResult) -> None:
    c = _truth(default_run, "contrats")
    closed = c.filter(pl.col("date_fin").is_not_null())
    assert (closed["date_fin"] >= closed["date_debut"]).all()
    assert (c["date_fin"].is_null() == c["motif_fin"].is_null()).all()
    cdd = c.filter(pl.col("nature") == "02", pl.col("dispositif").is_null())
    assert cdd["motif_recours"].null_count() == 0
    # Mix: CDI, CDD and interim all present, apprentices too.
    assert set(c["nature"].unique().to_list()) >= {"01", "02", "03"}
    assert c["dispositif"].drop_nulls().is_in(["64", "65"]).all()
    assert c["dispositif"].drop_nulls().len() > 0


def test_interim_user_establishments_exist(default_run: SimulationResult) -> None:
    c = _truth(default_run, "contrats")
    etabs = _truth(default_run, "etablissements")
    interim = c.filter(pl.col("nature") == "03")
    assert interim.height > 0
    assert interim["siret_utilisateur"].null_count() == 0
    assert interim["siret_utilisateur"].is_in(etabs["siret"].implode()).all()
    agencies = etabs.filter(pl.col("naf") == "7820Z")["siret"]
    assert interim["siret"].is_in(agencies.implode()).all()
    assert c.filter(pl.col("nature") != "03")["siret_utilisateur"].null_count() == (
        c.filter(pl.col("nature") != "03").height
    )


def test_hours_and_pay_only_inside_contract_periods(default_run: SimulationResult) -> None:
    far = dt.date(2999, 12, 31)
    c = _truth(default_run, "contrats").select(
        "contrat_id", "date_debut", pl.col("date_fin").fill_null(far)
    )
    for table in ("heures", "remunerations"):
        t = _truth(default_run, table).join(c, on="contrat_id", how="left")
        assert t["date_debut"].null_count() == 0
        month_end = pl.col("mois").dt.offset_by("1mo").dt.offset_by("-1d")
        outside = t.filter(
            (month_end < pl.col("date_debut")) | (pl.col("mois") > pl.col("date_fin"))
        )
        assert outside.height == 0, outside.head()
    h = _truth(default_run, "heures")
    assert (h["heures_remunerees"] >= 0).all()
    assert (h["heures_non_remunerees"] >= 0).all()
    assert (h["heures_supp"] >= 0).all()
    assert h.select(pl.struct("contrat_id", "mois").is_unique().all()).item()


def test_establishments_and_transfers(default_run: SimulationResult) -> None:
    c = _truth(default_run, "contrats")
    etabs = _truth(default_run, "etablissements")
    joined = c.join(etabs, on="siret")
    assert (joined["date_debut"] >= joined["date_creation"]).all()
    closed = joined.filter(pl.col("date_fermeture").is_not_null())
    assert (closed["date_fin"] <= closed["date_fermeture"]).all()
    moved = c.filter(pl.col("contrat_precedent_id").is_not_null()).join(
        c, left_on="contrat_precedent_id", right_on="contrat_id", suffix="_old"
    )
    assert moved.height > 0
    assert (moved["person_id"] == moved["person_id_old"]).all()
    assert (moved["date_fin_old"] == moved["date_debut"].dt.offset_by("-1d")).all()
    assert (moved["siret"] != moved["siret_old"]).all()


def test_heavy_tailed_sizes_and_mixes(default_run: SimulationResult) -> None:
    etabs = _truth(default_run, "etablissements")
    sizes = etabs.group_by("siren").agg(pl.col("effectif_cible").sum())["effectif_cible"]
    assert sizes.median() <= 5
    assert sizes.max() >= 100
    assert etabs["siren"].n_unique() < etabs.height  # multi-establishment companies
    assert etabs["naf"].n_unique() >= 10
    assert etabs["idcc"].n_unique() >= 8
    assert etabs["code_commune"].n_unique() >= 10


def test_anomalies_reference_real_entities(default_run: SimulationResult) -> None:
    a = _truth(default_run, "anomalies")
    c = _truth(default_run, "contrats")
    assert a["anomaly_id"].is_unique().all()
    with_contract = a.filter(pl.col("contrat_id").is_not_null())
    assert with_contract["contrat_id"].is_in(c["contrat_id"].implode()).all()
    files = a.filter(pl.col("file").is_not_null())["file"].unique().to_list()
    assert all((default_run.out / f).exists() for f in files)
