"""Primary secrecy: which cells may not be published on their own.

A cell with contributors is sensitive when it has
- fewer than ``min_salaries`` distinct employees (``frequence``);
- fewer than ``min_etablissements`` contributing establishments (``etablissements``) or fewer
  than ``min_entreprises`` contributing enterprises, SIREN (``entreprises``): three
  establishments of one company are one respondent for INSEE and Urssaf;
- one establishment or one enterprise holding more than ``dominance_pct`` % of its numerator or
  of its denominator (rule NK(1, 85), ``dominance``);
- for an amount (euros, hours, ETP: ``amounts``), the p % rule on enterprises (``p_pct``): the
  second largest enterprise, subtracting its own contribution from the published total, would
  estimate the largest one's within ``p_pct`` % (total - x1 - x2 < p/100 * x1).
Empty cells (no contributor) are published as such. ``Rules.secret_entreprises`` False (a
habilitation granted unit-level data) lifts the three enterprise rules, not the others.
"""

from __future__ import annotations

import polars as pl

from .rules import Rules


def apply(cells: pl.DataFrame, rules: Rules, amounts: bool = False) -> pl.DataFrame:
    share = rules.dominance_pct / 100.0
    has = pl.col("nb_salaries") > 0
    freq = has & (pl.col("nb_salaries") < rules.min_salaries)
    etab = has & (pl.col("nb_etablissements") < rules.min_etablissements)
    firms = pl.lit(rules.secret_entreprises)
    ent = has & firms & (pl.col("nb_entreprises") < rules.min_entreprises)

    def dominated(largest: str, total: str) -> pl.Expr:
        return (pl.col(total) > 0) & (pl.col(largest) > share * pl.col(total))

    dom = has & (
        dominated("max_num", "num")
        | dominated("max_den", "den")
        | (firms & (dominated("max_num_ent", "num") | dominated("max_den_ent", "den")))
    )
    if amounts and rules.secret_entreprises:
        rest = pl.col("num") - pl.col("max_num_ent") - pl.col("second_num_ent")
        p_rule = has & (pl.col("num") > 0) & (rest < rules.p_pct / 100.0 * pl.col("max_num_ent"))
    else:
        p_rule = pl.lit(False)
    reasons = pl.concat_str(
        [
            pl.when(freq).then(pl.lit("frequence")),
            pl.when(etab).then(pl.lit("etablissements")),
            pl.when(ent).then(pl.lit("entreprises")),
            pl.when(dom).then(pl.lit("dominance")),
            pl.when(p_rule).then(pl.lit("regle_p")),
        ],
        separator="+",
        ignore_nulls=True,
    )
    masked = freq | etab | ent | dom | p_rule
    return cells.with_columns(
        masked.alias("masque_primaire"),
        pl.when(masked).then(reasons).otherwise(pl.lit("")).alias("motif_primaire"),
    )
