"""Parity of the engines for indicators: on the folder's simulated economy (40 employers, six
months), the base layer and the cells computed by DuckDB and by Spark (``local[2]``) are the
same, and so the disclosure control, run in Python on those cells, masks the same cells. The sums
of doubles are compared after the rounding every session applies (``compute.settled``); counts
are exact. Batched indicators (``precompute_cells``) and one computed alone are both compared.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datadsn.indicators import batch
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session, precompute_cells
from datadsn.indicators.publish import joint_dims, protected_table
from datadsn.indicators.rules import Rules

from .conftest import Economy

pytestmark = pytest.mark.spark
WINDOW = ("2023-01", "2023-06", "trimestre")
# Averages, a sum, ratios, a share of a margin; PYRAMIDE_AGES is aggregated alone.
CODES = ("EFF_MOY", "EMBAUCHES", "RECOURS_INTERIM", "SALAIRE_MOYEN", "REPARTITION_CONTRATS",
         "PYRAMIDE_AGES")  # fmt: skip

Tables = dict[str, dict[str, pl.DataFrame]]


@pytest.fixture(scope="module")
def tables(economy: Economy) -> Tables:
    """Per engine: the protected table of each indicator, and the base layer (``ind_base``)."""
    out: Tables = {}
    for engine in ("duckdb", "spark"):
        session = Session(economy.store, threads=2, engine=engine, master="local[2]")
        try:
            indicators = [get(c) for c in CODES]
            requests = [(i, joint_dims(i, list(i.par_defaut))) for i in indicators]
            precompute_cells(session, requests, *WINDOW)
            out[engine] = {
                i.code: protected_table(session, i, list(i.par_defaut), *WINDOW, Rules())[0]
                for i in indicators
            }
            out[engine]["ind_base"] = session.frame(
                "SELECT * FROM ind_base ORDER BY contrat_id, mois"
            )
        finally:
            session.close()
    return out


def test_base_layer_is_identical(tables: Tables) -> None:
    assert tables["duckdb"]["ind_base"].height > 500
    assert_frame_equal(tables["duckdb"]["ind_base"], tables["spark"]["ind_base"], check_exact=True)


@pytest.mark.parametrize("code", CODES)
def test_cells_values_and_masks_are_identical(tables: Tables, code: str) -> None:
    duck, spark = tables["duckdb"][code], tables["spark"][code]
    assert duck.height > 0
    assert_frame_equal(duck, spark, check_exact=True)


def test_the_comparison_covers_masks_fractions_and_both_paths(tables: Tables) -> None:
    duck = tables["duckdb"]
    masks = pl.concat([duck[c].select("masque_primaire", "masque_secondaire") for c in CODES])
    assert masks["masque_primaire"].sum() > 0 and masks["masque_secondaire"].sum() > 0
    # averages over a quarter: sums of thirds, where the order of additions shows
    num = duck["EFF_MOY"]["num"]
    assert (num != num.round()).any()
    # PYRAMIDE_AGES shares its dimensions with no other: precompute_cells leaves it alone
    joints = {c: joint_dims(get(c), list(get(c).par_defaut)) for c in CODES}
    assert [c for c in CODES if joints[c] == joints["PYRAMIDE_AGES"]] == ["PYRAMIDE_AGES"]
    assert len(batch.plan([get(c) for c in CODES if c != "PYRAMIDE_AGES"])) >= 2
