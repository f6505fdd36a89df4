"""Indicators without masking equal values computed independently.

Exact: against a direct Polars computation on the consolidated tables. Loose: against the
simulator's truth, because a few definitions depend on consolidation choices (a transfer
between establishments, code 998, keeps one contract; absence hours of a pay period straddling
two months are spread by working days), so a handful of cells may differ by one contract or a
few hours.
"""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import TOTAL, compute_cells

from . import direct, truth
from .conftest import MONTHS

START, END = MONTHS
NOT_COPY = ~pl.col("copie")
PRESENT = NOT_COPY & (pl.col("present_fin") == 1)
H = pl.col("heures")
HS = pl.col("heures_supp")


def _age5() -> pl.Expr:
    a = pl.col("age")
    band = (
        (a // 5 * 5).cast(pl.Utf8).str.zfill(2) + "-" + (a // 5 * 5 + 4).cast(pl.Utf8).str.zfill(2)
    )
    return pl.when(a < 15).then(pl.lit("00-14")).when(a >= 65).then(pl.lit("65+")).otherwise(band)


SHORT = (pl.col("date_fin_previsionnelle") < pl.col("date_debut").dt.offset_by("1mo")).fill_null(
    False
)
QUOTITE = pl.coalesce("quotite_mois", "quotite_contrat").cast(pl.Float64) / 151.67

# code: (row filter, numerator, denominator or None, weighting of num, of den, scale)
SPECS = {
    "EFF_FIN": (PRESENT, pl.col("present_fin"), None, "fin", None, 1),
    "EFF_MOY": (NOT_COPY, pl.col("presence"), None, "moyenne", None, 1),
    "ETP_HEURES": (NOT_COPY & (H > 0), H / 151.67, None, "moyenne", None, 1),
    "ETP_QUOTITE": (NOT_COPY & (pl.coalesce("unite_mois", "unite_mesure_quotite") == "10"),
                    pl.col("presence") * QUOTITE, None, "moyenne", None, 1),
    "EMBAUCHES": (NOT_COPY & (pl.col("embauche") == 1), pl.lit(1.0), None, "somme", None, 1),
    "FINS_CONTRAT": (NOT_COPY & (pl.col("fin") == 1), pl.lit(1.0), None, "somme", None, 1),
    "TAUX_ROTATION": (NOT_COPY, (pl.col("embauche") + pl.col("fin")) / 2, pl.col("presence"),
                      "somme", "moyenne", 100),
    "PART_CDD_COURTS": (NOT_COPY & (pl.col("embauche") == 1) & (pl.col("nature") == "02"),
                        SHORT.cast(pl.Float64), pl.lit(1.0), "somme", "somme", 100),
    "RECOURS_INTERIM": (pl.lit(True),
                        pl.when(pl.col("copie")).then(pl.col("heures") / 151.67).otherwise(0.0),
                        pl.when(pl.col("copie")).then(0.0).otherwise(pl.col("presence")),
                        "somme", "somme", 100),
    "HEURES": (NOT_COPY & (pl.col("heures") > 0), pl.col("heures"), None, "somme", None, 1),
    "HEURES_SUPP": (NOT_COPY & (HS > 0), HS, None, "somme", None, 1),
    "MASSE_SALARIALE": (NOT_COPY & (pl.col("brut") != 0), pl.col("brut"), None, "somme", None, 1),
    "SALAIRE_MOYEN": (NOT_COPY, pl.col("brut"), pl.col("presence"), "somme", "somme", 1),
    "PYRAMIDE_AGES": (PRESENT, pl.col("present_fin"), None, "fin", None, 1),
    "REPARTITION_CONTRATS": (NOT_COPY & (pl.col("present_fin") == 1), pl.col("present_fin"), None,
                             "fin", None, 100),
}  # fmt: skip
DIMS = {
    "RECOURS_INTERIM": ["naf_section"],
    "PART_CDD_COURTS": ["naf_section", "sexe"],
    "PYRAMIDE_AGES": ["tranche_age", "sexe"],
    "REPARTITION_CONTRATS": ["nature_contrat", "naf_section"],
}


@pytest.fixture(scope="module")
def rows(economy) -> pl.DataFrame:
    return direct.contract_months(economy.store, START, END).with_columns(
        _age5().alias("tranche_age"),
        pl.col("sexe").fill_null("inconnu"),
        pl.col("nature").alias("nature_contrat"),
    )


def _weight(kind: str | None, period: str) -> pl.Expr:
    months_in = pl.col("mois").n_unique().over(period)
    if kind == "moyenne":
        return 1.0 / months_in
    if kind == "fin":
        return (pl.col("mois") == pl.col("mois").max().over(period)).cast(pl.Float64)
    return pl.lit(1.0)


def weighted(rows: pl.DataFrame, code: str, period: str) -> pl.DataFrame:
    """The indicator's rows with their weighted numerator ``n`` and denominator ``d``."""
    keep, num, den, w_num, w_den, _ = SPECS[code]
    all_months = rows.select("mois").unique()
    key = (
        pl.col("mois").dt.strftime("%Y-%m")
        if period == "mois"
        else pl.col("mois").dt.year().cast(pl.Utf8)
        + "-T"
        + pl.col("mois").dt.quarter().cast(pl.Utf8)
    )
    weights = all_months.with_columns(key.alias("periode")).with_columns(
        _weight(w_num, "periode").alias("wn"), _weight(w_den, "periode").alias("wd")
    )
    return (
        rows.filter(keep)
        .drop("periode")
        .join(weights, on="mois")
        .with_columns(
            (num * pl.col("wn")).alias("n"),
            ((den if den is not None else pl.lit(0.0)) * pl.col("wd")).alias("d"),
        )
    )


def expected(rows: pl.DataFrame, code: str, dims: list[str], period: str) -> pl.DataFrame:
    _, _, den, _, _, scale = SPECS[code]
    data = weighted(rows, code, period)
    parts = []
    for r in range(len(dims) + 1):
        for subset in itertools.combinations(dims, r):
            g = data.group_by("periode", *subset).agg(pl.col("n").sum(), pl.col("d").sum())
            parts.append(g.with_columns(*[pl.lit(TOTAL).alias(d) for d in dims if d not in subset]))
    out = pl.concat([p.select("periode", *dims, "n", "d") for p in parts])
    if code == "REPARTITION_CONTRATS":
        out = out.filter(pl.col("n") != 0)
        margin = out.filter(pl.col(dims[0]) == TOTAL).select(
            "periode", *dims[1:], pl.col("n").alias("m")
        )
        return out.join(margin, on=["periode", *dims[1:]]).select(
            "periode", *dims, (pl.col("n") / pl.col("m") * scale).alias("attendu")
        )
    value = pl.col("n") / pl.col("d") * scale if den is not None else pl.col("n") * scale
    return out.filter((pl.col("n") != 0) | (pl.col("d") != 0)).select(
        "periode", *dims, value.alias("attendu")
    )


@pytest.mark.parametrize("code", sorted(SPECS))
@pytest.mark.parametrize("period", ["mois", "trimestre"])
def test_indicator_equals_direct_computation(session, rows, code: str, period: str) -> None:
    dims = DIMS.get(code, ["naf_section", "sexe"])
    got = compute_cells(session, get(code), dims, START, END, period)
    want = expected(rows, code, dims, period)
    joined = got.join(want, on=["periode", *dims], how="full", coalesce=True)
    assert joined.height == got.height == want.height, "mêmes cases"
    diff = joined.filter(
        ~((pl.col("valeur") - pl.col("attendu")).abs() <= 1e-6 * (1 + pl.col("attendu").abs()))
        & ~(pl.col("valeur").is_null() & pl.col("attendu").is_null())
    )
    assert diff.is_empty(), diff


@pytest.mark.parametrize("period", ["mois", "trimestre"])
@pytest.mark.parametrize(
    ("code", "dims"),
    [("EFF_MOY", ["nature_contrat", "sexe"]), ("HEURES", ["naf_section"]),
     ("TAUX_ROTATION", ["tranche_age", "naf_section"])],
)  # fmt: skip
def test_disclosure_counts_equal_direct_computation(
    session, economy, rows, code, dims, period
) -> None:
    """Distinct employees, contributing establishments and enterprises, and the largest
    contributions per cell (of an establishment; of an enterprise, and its second largest)."""
    with economy.store.connect() as con:
        sirens = con.execute(
            "select etablissement_id, left(siret, 9) as entreprise from etablissements"
        ).pl()
    data = weighted(rows, code, period).filter((pl.col("n") != 0) | (pl.col("d") != 0))
    data = data.join(sirens, on="etablissement_id", how="left")
    # The employees with several rows in a period are the ones a cell must not count twice.
    assert data.group_by("periode", "salarie_id").len()["len"].max() > 1
    parts = []
    for r in range(len(dims) + 1):
        for subset in itertools.combinations(dims, r):
            keys = ["periode", *subset]
            per_etab = data.group_by(*keys, "etablissement_id").agg(pl.col("n").sum())
            g = data.group_by(keys).agg(
                pl.col("salarie_id").drop_nulls().n_unique().alias("salaries"),
                pl.col("etablissement_id").n_unique().alias("etablissements"),
            )
            g = g.join(per_etab.group_by(keys).agg(pl.col("n").max().alias("max_n")), on=keys)
            per_ent = data.group_by(*keys, "entreprise").agg(pl.col("n").sum())
            top = per_ent.group_by(keys).agg(
                pl.col("entreprise").n_unique().alias("entreprises"),
                pl.col("n").max().alias("max_e"),
                pl.col("n").sort(descending=True).get(1, null_on_oob=True).fill_null(0.0)
                .alias("second_e"),
            )  # fmt: skip
            g = g.join(top, on=keys)
            parts.append(g.with_columns(*[pl.lit(TOTAL).alias(d) for d in dims if d not in subset]))
    want = pl.concat([p.select("periode", *dims, "salaries", "etablissements", "max_n",
                               "entreprises", "max_e", "second_e") for p in parts])  # fmt: skip
    got = compute_cells(session, get(code), dims, START, END, period)
    joined = got.join(want, on=["periode", *dims], how="full", coalesce=True)
    assert joined.height == got.height == want.height, "mêmes cases"
    # Without a company of several sites in this economy, test_enterprises.py checks them apart.
    diff = joined.filter(
        (pl.col("nb_salaries") != pl.col("salaries"))
        | (pl.col("nb_etablissements") != pl.col("etablissements"))
        | ((pl.col("max_num") - pl.col("max_n")).abs() > 1e-9 * (1 + pl.col("max_n").abs()))
        | (pl.col("nb_entreprises") != pl.col("entreprises"))
        | ((pl.col("max_num_ent") - pl.col("max_e")).abs() > 1e-9 * (1 + pl.col("max_e").abs()))
        | ((pl.col("second_num_ent") - pl.col("second_e")).abs()
           > 1e-9 * (1 + pl.col("second_e").abs()))
    )  # fmt: skip
    assert diff.is_empty(), diff


def test_interim_use_matches_simulator_truth(session, economy) -> None:
    """Missions (truth: nature 03 with a user SIRET) over the user's own mean headcount."""
    cm = truth.contract_months(economy.truth, START, END)
    first = pl.max_horizontal("date_debut", "mois")
    last = pl.min_horizontal(pl.col("date_fin").fill_null(pl.col("fin_mois")), "fin_mois")
    days = pl.col("fin_mois").dt.day().cast(pl.Float64)
    cm = cm.with_columns(((last - first).dt.total_days() + 1).cast(pl.Float64).truediv(days)
                         .alias("presence"))  # fmt: skip
    users = truth.establishments(economy.truth).select(
        pl.col("siret").alias("siret_utilisateur"), pl.col("section").alias("section_u")
    )
    num = (
        cm.filter(pl.col("siret_utilisateur").is_not_null())
        .join(users, on="siret_utilisateur")
        .group_by("periode", pl.col("section_u").alias("naf_section"))
        .agg((pl.col("heures_remunerees").fill_null(0).sum() / 151.67).alias("n"))
    )
    den = cm.group_by("periode", "naf_section").agg(pl.col("presence").sum().alias("d"))
    want = den.join(num, on=["periode", "naf_section"], how="left").with_columns(
        (pl.col("n").fill_null(0) / pl.col("d") * 100).alias("attendu")
    )
    got = compute_cells(session, get("RECOURS_INTERIM"), ["naf_section"], START, END, "mois")
    joined = got.filter(pl.col("naf_section") != TOTAL).join(
        want, on=["periode", "naf_section"], how="inner"
    )
    assert joined["num"].sum() > 0
    close = joined.filter((pl.col("valeur") - pl.col("attendu")).abs() <= 1e-6)
    assert close.height >= 0.9 * joined.height, joined


def _truth_cells(cm: pl.DataFrame, keep: pl.Expr, measure: pl.Expr, dim: str) -> pl.DataFrame:
    return cm.filter(keep).group_by("periode", dim).agg(measure.sum().alias("attendu"))


@pytest.mark.parametrize(
    ("code", "dim", "keep", "measure"),
    [
        ("EFF_FIN", "region", pl.col("present_fin") == 1, pl.col("present_fin")),
        ("EFF_FIN", "naf_section", pl.col("present_fin") == 1, pl.col("present_fin")),
        ("EMBAUCHES", "nature_contrat", pl.col("embauche") == 1, pl.col("embauche")),
        ("FINS_CONTRAT", "motif_rupture", pl.col("fin") == 1, pl.col("fin")),
        ("HEURES", "departement", pl.col("heures_remunerees") > 0, pl.col("heures_remunerees")),
        ("HEURES_SUPP", "region", pl.col("heures_supp") > 0, pl.col("heures_supp")),
        ("MASSE_SALARIALE", "region", pl.col("brut") != 0, pl.col("brut")),
    ],
)
def test_indicator_matches_simulator_truth(session, economy, code, dim, keep, measure) -> None:
    cm = truth.contract_months(economy.truth, START, END).rename(
        {"nature": "nature_contrat", "motif_fin": "motif_rupture"}
    )
    want = _truth_cells(cm, keep, measure, dim)
    got = compute_cells(session, get(code), [dim], START, END, "mois")
    inner = got.filter(pl.col(dim) != TOTAL)
    joined = inner.join(want, on=["periode", dim], how="full", coalesce=True)
    same = joined.filter(
        (pl.col("valeur").fill_null(0) - pl.col("attendu").fill_null(0)).abs()
        <= 1e-6 * (1 + pl.col("attendu").fill_null(0).abs())
    )
    # Hours: absences of a pay period straddling two months are spread by working days.
    share = 0.8 if code == "HEURES" else 0.9
    assert same.height >= share * joined.height, joined.sort("periode", dim)
    total_got = inner["valeur"].sum()
    total_want = want["attendu"].sum()
    assert abs(total_got - total_want) <= 0.01 * total_want
