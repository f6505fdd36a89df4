"""Enterprise units (SIREN) in primary secrecy, and the p % rule on amounts.

INSEE and Urssaf count enterprises as respondents: three establishments of one company are one
respondent. The economy here (seed 13) has a company of ten establishments, which the shared
test economy lacks.
"""

from __future__ import annotations

import polars as pl
import pytest

from datadsn.indicators import primary
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session, compute_cells
from datadsn.indicators.publish import protected_table
from datadsn.indicators.rules import Rules
from tests.economy import consolidated_economy

START, END = "2023-01", "2023-02"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    store = consolidated_economy(
        tmp_path_factory.mktemp("groupes"), employers=40, months=(START, END), seed=13
    )
    s = Session(store, threads=2)
    yield s
    s.close()


def _old_mask(rules: Rules) -> pl.Expr:
    """Primary secrecy before enterprises: employees, establishments, establishment dominance."""
    share = rules.dominance_pct / 100.0
    has = pl.col("nb_salaries") > 0
    return has & (
        (pl.col("nb_salaries") < rules.min_salaries)
        | (pl.col("nb_etablissements") < rules.min_etablissements)
        | ((pl.col("num") > 0) & (pl.col("max_num") > share * pl.col("num")))
        | ((pl.col("den") > 0) & (pl.col("max_den") > share * pl.col("den")))
    )


@pytest.mark.parametrize("code", ["EFF_FIN", "MASSE_SALARIALE"])
def test_cells_of_fewer_than_three_enterprises_are_masked(session: Session, code: str) -> None:
    """Replay: with establishments counted, a cell of 3+ sites of one or two companies was
    published, giving the company's own figure to anyone who knows it is alone there."""
    rules = Rules()
    dims = ["tranche_effectif"]
    cells = compute_cells(session, get(code), dims, START, END, "mois")
    exposed = cells.filter(~_old_mask(rules) & (pl.col("nb_entreprises") < 3))
    assert exposed.height > 0, "the attack needs a cell of 3+ sites of fewer than 3 companies"
    assert (exposed["nb_etablissements"] >= 3).all()
    now = primary.apply(cells, rules, get(code).amounts)
    keys = ["periode", *dims]
    hit = now.join(exposed.select(keys), on=keys, how="semi")
    assert hit["masque_primaire"].all()
    assert hit["motif_primaire"].str.contains("entreprises").all()
    table, _ = protected_table(session, get(code), dims, START, END, "mois", rules)
    released = table.join(exposed.select(keys), on=keys, how="semi")
    assert released["masque_primaire"].all()
    # No cell published anywhere in the table holds fewer than 3 enterprises.
    published = table.filter(~pl.col("masque_primaire") & ~pl.col("masque_secondaire"))
    assert published.filter((pl.col("nb_salaries") > 0) & (pl.col("nb_entreprises") < 3)).is_empty()


def _cell(contributions: list[float], units: int = 3) -> pl.DataFrame:
    """One cell of ``contributions`` by as many enterprises (one establishment each)."""
    ordered = sorted(contributions, reverse=True)
    return pl.DataFrame(
        {
            "num": [sum(ordered)],
            "den": [0.0],
            "nb_salaries": [20],
            "nb_etablissements": [len(ordered)],
            "max_num": [ordered[0]],
            "max_den": [0.0],
            "nb_entreprises": [len(ordered)],
            "max_num_ent": [ordered[0]],
            "max_den_ent": [0.0],
            "second_num_ent": [ordered[1] if len(ordered) > 1 else 0.0],
        }
    )


def test_p_rule_masks_an_amount_the_second_largest_could_estimate() -> None:
    """Replay: payroll of 60, 35 and 5 k€ passes NK(1, 85) (60 %), yet the second company,
    subtracting its 35 from the published 100, knows the first's 60 within 5 (8 %)."""
    rules = Rules()
    cell = _cell([60_000.0, 35_000.0, 5_000.0])
    assert not cell.select(_old_mask(rules)).item()
    assert primary.apply(cell, rules, amounts=True)["motif_primaire"].item() == "regle_p"
    # A count is not an amount: the p % rule is for euros and hours.
    assert not primary.apply(cell, rules, amounts=False)["masque_primaire"].item()
    # Spread contributions pass: 100 - 40 - 35 = 25 >= 10 % of 40.
    spread = _cell([40_000.0, 35_000.0, 25_000.0])
    assert not primary.apply(spread, rules, amounts=True)["masque_primaire"].item()


def test_enterprise_dominance() -> None:
    """Two sites of one company holding 90 % of a cell: each site alone is under 85 %."""
    cell = _cell([45.0, 45.0, 5.0, 5.0]).with_columns(
        nb_entreprises=pl.lit(3), max_num_ent=pl.lit(90.0), second_num_ent=pl.lit(5.0)
    )
    rules = Rules()
    assert not cell.select(_old_mask(rules)).item()
    assert "dominance" in primary.apply(cell, rules)["motif_primaire"].item()
