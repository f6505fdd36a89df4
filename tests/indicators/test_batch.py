"""Indicators aggregated together in one read of ind_base give the cells of the single query."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datadsn.indicators import batch
from datadsn.indicators.catalogue import CATALOGUE, Indicator
from datadsn.indicators.compute import Session, compute_cells, precompute_cells

START, END = "2023-01", "2023-06"


def _requests(extra: list[str]) -> list[tuple[Indicator, list[str]]]:
    out = []
    for ind in CATALOGUE:
        dims = list(ind.par_defaut) + [d for d in extra if d not in ind.par_defaut]
        if all(d in ind.dimensions for d in dims):
            out.append((ind, dims))
    return out


@pytest.mark.parametrize(
    ("extra", "period"),
    [
        ([], "mois"),
        ([], "trimestre"),
        (["sexe"], "annee"),
        (["tranche_effectif", "sexe"], "mois"),
        (["tranche_effectif", "region"], "trimestre"),
    ],
)
def test_batched_cells_equal_single_queries(
    session: Session, extra: list[str], period: str
) -> None:
    requests = [(i, d) for i, d in _requests(extra) if period in i.periodicite]
    single = {i.code: compute_cells(session, i, d, START, END, period) for i, d in requests}
    precompute_cells(session, requests, START, END, period)
    assert len(session.ready) >= 2  # the batch did run
    for ind, dims in requests:
        got = compute_cells(session, ind, dims, START, END, period)
        assert_frame_equal(got, single[ind.code], check_exact=False, rel_tol=1e-12)
    assert not session.ready  # every batched result was used once


def test_every_catalogue_step_has_the_batch_shape() -> None:
    for ind in CATALOGUE:
        assert batch.parts(ind.sql) is not None, ind.code


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT *, 1.0 AS numerateur, 1.0 AS denominateur FROM ind_base GROUP BY 1",
        "SELECT *, brut AS numerateur FROM ind_base",
        "SELECT *, 1 AS numerateur, 2 AS denominateur FROM autre",
        "SELECT b.*, 1 AS numerateur, 2 AS denominateur FROM ind_base AS b JOIN x ON true",
        "SELECT DISTINCT *, 1 AS numerateur, 2 AS denominateur FROM ind_base",
    ],
)
def test_other_shapes_are_left_to_the_single_query(sql: str) -> None:
    assert batch.parts(sql) is None


def test_parts_read_measures_and_filter() -> None:
    p = batch.parts(
        "-- note\nSELECT *, CAST(fin AS DOUBLE) AS numerateur, presence AS denominateur\n"
        "FROM ind_base WHERE NOT copie_interim AND fin = 1"
    )
    assert p == batch.Parts("CAST(fin AS DOUBLE)", "presence", "NOT copie_interim AND fin = 1")
    plain = batch.parts("SELECT *, 1 AS numerateur, 0 AS denominateur FROM ind_base")
    assert plain is not None and plain.condition == "TRUE"


def test_split_keeps_only_cells_an_indicator_has() -> None:
    wide = pl.DataFrame(
        {
            "periode": ["2023-02", "2023-01"],
            "sexe": ["01", "01"],
            **{f"{c}_0": [1, 0] for c in batch.CELL_COLUMNS},
            **{f"{c}_1": [2, 3] for c in batch.CELL_COLUMNS},
        }
    )
    out = batch.split(wide, ["A", "B"], ["sexe"])
    assert out["A"]["periode"].to_list() == ["2023-02"]
    assert out["B"]["periode"].to_list() == ["2023-01", "2023-02"]
    assert out["B"]["num"].to_list() == [3, 2]
