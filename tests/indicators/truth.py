"""Indicators recomputed from the simulator's truth tables, without the warehouse.

Independent of the SQL steps: plain Polars on ``truth/*.parquet``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from datadsn.indicators import references


def month_end(m: date) -> date:
    nxt = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def months(start: str, end: str) -> list[date]:
    y, m = map(int, start.split("-"))
    out = []
    while f"{y}-{m:02d}" <= end:
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def establishments(truth: Path) -> pl.DataFrame:
    div = pl.DataFrame(references.naf_divisions()).select("division", "section", "a38")
    deps = pl.DataFrame(references.read_csv("departements.csv")).select("departement", "region")
    e = pl.read_parquet(truth / "etablissements.parquet").with_columns(
        pl.col("naf").str.slice(0, 2).alias("division"),
        pl.when(pl.col("code_commune").str.starts_with("97"))
        .then(pl.col("code_commune").str.slice(0, 3))
        .otherwise(pl.col("code_commune").str.slice(0, 2))
        .alias("departement"),
    )
    return e.join(div, on="division", how="left").join(deps, on="departement", how="left")


def contract_months(truth: Path, start: str, end: str) -> pl.DataFrame:
    """One row per truth contract and month it overlaps, with person and employer attributes."""
    c = pl.read_parquet(truth / "contrats.parquet")
    p = pl.read_parquet(truth / "personnes.parquet").select("person_id", "sexe", "date_naissance")
    e = establishments(truth).select(
        "siret", pl.col("section").alias("naf_section"), "departement", "region", "idcc"
    )
    ms = pl.DataFrame(
        {"mois": months(start, end), "fin_mois": [month_end(m) for m in months(start, end)]}
    )
    rows = (
        c.join(ms, how="cross")
        .filter(
            (pl.col("date_debut") <= pl.col("fin_mois"))
            & (pl.col("date_fin").is_null() | (pl.col("date_fin") >= pl.col("mois")))
        )
        .join(p, on="person_id", how="left")
        .join(e, on="siret", how="left")
    )
    h = pl.read_parquet(truth / "heures.parquet")
    r = pl.read_parquet(truth / "remunerations.parquet")
    rows = rows.join(h, on=["contrat_id", "mois"], how="left").join(
        r, on=["contrat_id", "mois"], how="left"
    )
    age = (
        (pl.col("mois").dt.year().cast(pl.Int32) * 12 + pl.col("mois").dt.month().cast(pl.Int32))
        - (
            pl.col("date_naissance").dt.year().cast(pl.Int32) * 12
            + pl.col("date_naissance").dt.month().cast(pl.Int32)
        )
    ) // 12
    return rows.with_columns(
        age.alias("age"),
        (pl.col("date_fin").is_null() | (pl.col("date_fin") >= pl.col("fin_mois")))
        .cast(pl.Float64)
        .alias("present_fin"),
        (pl.col("date_debut") >= pl.col("mois")).cast(pl.Float64).alias("embauche"),
        (pl.col("date_fin").is_not_null() & (pl.col("date_fin") <= pl.col("fin_mois")))
        .cast(pl.Float64)
        .alias("fin"),
        pl.col("mois").dt.strftime("%Y-%m").alias("periode"),
    )
