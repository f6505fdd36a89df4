"""Primary secrecy: which cells may not be published on their own.

A cell with contributors is sensitive when it has fewer than ``min_salaries`` distinct employees,
fewer than ``min_etablissements`` contributing establishments, or when one establishment holds
more than ``dominance_pct`` % of its numerator or of its denominator (rule NK(1, 85)). Empty
cells (no contributor) are published as such.
"""

from __future__ import annotations

import polars as pl

from .rules import Rules


def apply(cells: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    share = rules.dominance_pct / 100.0
    has = pl.col("nb_salaries") > 0
    freq = has & (pl.col("nb_salaries") < rules.min_salaries)
    etab = has & (pl.col("nb_etablissements") < rules.min_etablissements)
    dom = has & (
        ((pl.col("num") > 0) & (pl.col("max_num") > share * pl.col("num")))
        | ((pl.col("den") > 0) & (pl.col("max_den") > share * pl.col("den")))
    )
    reasons = pl.concat_str(
        [
            pl.when(freq).then(pl.lit("frequence")),
            pl.when(etab).then(pl.lit("etablissements")),
            pl.when(dom).then(pl.lit("dominance")),
        ],
        separator="+",
        ignore_nulls=True,
    )
    return cells.with_columns(
        (freq | etab | dom).alias("masque_primaire"),
        pl.when(freq | etab | dom).then(reasons).otherwise(pl.lit("")).alias("motif_primaire"),
    )
