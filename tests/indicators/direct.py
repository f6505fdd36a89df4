"""Indicators recomputed with Polars directly from the consolidated tables (no indicator SQL).

Used where a definition depends on consolidation choices (transfers, deduced ends, hours spread
over calendar months): the SQL steps must equal this exactly, and the truth loosely.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from datadsn.engine.warehouse import Warehouse
from datadsn.indicators import references

from .truth import month_end, months

END = pl.col("date_fin_effective")
AGE5 = [f"{a:02d}-{a + 4:02d}" for a in range(15, 65, 5)]


def contract_months(store: Warehouse, start: str, end: str) -> pl.DataFrame:
    with store.connect() as con:
        c = con.execute("select * from contrats").pl()
        cm = con.execute("select contrat_id, mois, nature_contrat as nature_mois, "
                         "unite_mesure_quotite as unite_mois, quotite_contrat as quotite_mois, "
                         "remuneration_brute from contrats_mois").pl()  # fmt: skip
        act = con.execute("select contrat_id, mois, heures_standards_remunerees, "
                          "heures_supp_remunerees from activites").pl()  # fmt: skip
        sal = con.execute("select salarie_id, sexe, annee_naissance, mois_naissance "
                          "from salaries").pl()  # fmt: skip
        etab = con.execute("select etablissement_id, code_naf from etablissements").pl()
    div = pl.DataFrame(references.naf_divisions()).select("division", "section")
    etab = etab.with_columns(pl.col("code_naf").str.slice(0, 2).alias("division")).join(
        div, on="division", how="left"
    )
    ms = months(start, end)
    window = pl.DataFrame({"mois": ms, "fin_mois": [month_end(m) for m in ms]})
    c = c.with_columns(
        pl.coalesce("date_debut_effective", "date_debut").alias("debut"),
        pl.coalesce("ett_contrat_id", "contrat_id").alias("source_id"),
    )
    cm = cm.rename({"contrat_id": "source_id"})
    act = act.rename({"contrat_id": "source_id"})
    rows = (
        c.join(window, how="cross")
        .filter(
            (pl.col("debut") <= pl.col("fin_mois"))
            & (END.is_null() | (pl.col("mois") <= END))
        )
        .join(cm, on=["source_id", "mois"], how="left")
        .join(act, on=["source_id", "mois"], how="left")
        .join(sal, on="salarie_id", how="left")
        .join(etab.select("etablissement_id", "section"), on="etablissement_id", how="left")
    )  # fmt: skip
    first = pl.max_horizontal("debut", "mois")
    last = pl.min_horizontal(pl.col("date_fin_effective").fill_null(pl.col("fin_mois")), "fin_mois")
    age = (
        pl.col("mois").dt.year().cast(pl.Int32) * 12
        + pl.col("mois").dt.month().cast(pl.Int32)
        - pl.col("annee_naissance").cast(pl.Int32) * 12
        - pl.col("mois_naissance").cast(pl.Int32)
    ) // 12
    return rows.with_columns(
        pl.col("ett_contrat_id").is_not_null().alias("copie"),
        pl.coalesce("nature_mois", "nature_contrat").alias("nature"),
        (END.is_null() | (pl.col("fin_mois") <= END))
        .cast(pl.Float64).alias("present_fin"),
        ((last - first).dt.total_days() + 1).cast(pl.Float64)
        .truediv(pl.col("fin_mois").dt.day().cast(pl.Float64)).alias("presence"),
        (pl.col("debut") >= pl.col("mois")).cast(pl.Float64).alias("embauche"),
        (pl.col("date_fin_effective") <= pl.col("fin_mois")).fill_null(False)
        .cast(pl.Float64).alias("fin"),
        pl.col("heures_standards_remunerees").cast(pl.Float64).fill_null(0).alias("heures"),
        pl.col("heures_supp_remunerees").cast(pl.Float64).fill_null(0).alias("heures_supp"),
        pl.col("remuneration_brute").cast(pl.Float64).fill_null(0).alias("brut"),
        age.alias("age"),
        pl.col("mois").dt.strftime("%Y-%m").alias("periode"),
        pl.col("section").fill_null("inconnu").alias("naf_section"),
    )  # fmt: skip


def quarter(d: date) -> str:
    return f"{d.year}-T{(d.month - 1) // 3 + 1}"
