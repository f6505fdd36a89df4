"""Parity of the engines: the six-month world of ``tests/quality/world.py`` (merges by change
blocks, a transfer, temporary work, a late and a replaced declaration, fractions, a closure by
silence), consolidated month by month by DuckDB and by Spark (``local[2]``), publishes the same
rows in every table of every month, in files of the same schemas. Both runs take their times
from one fixed clock, so even ``chargements`` compares whole.
"""

from __future__ import annotations

import datetime as dt

import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.run import ingest
from datadsn.quality.consolidate import consolidate
from datadsn.quality.snapshot import snapshot_dir
from tests.engine.parity import assert_same_files_and_schemas, count, differing_tables
from tests.quality import world
from tests.quality.scenario import SECRET, Scenario

pytestmark = pytest.mark.spark
RUN_TIME = dt.datetime(2024, 1, 31, 12, 0)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, Warehouse]:
    """(DuckDB's warehouse, Spark's), fed the same files at the same months."""
    scenario = Scenario(tmp_path_factory.mktemp("parite"))
    spark = Warehouse(scenario.root / "warehouse-spark")
    for month in world.MONTHS:
        paths = [scenario.write(d) for d in world.declarations(month)]
        for store in (scenario.store, spark):
            ingest(paths, store, SECRET, workers=1)
        consolidate(scenario.store, month, threads=2, refresh_catalog=False, clock=lambda: RUN_TIME)
        consolidate(
            spark,
            month,
            refresh_catalog=False,
            clock=lambda: RUN_TIME,
            engine="spark",
            master="local[2]",
        )
    return scenario.store, spark


def test_every_table_of_every_month_is_identical(stores: tuple[Warehouse, Warehouse]) -> None:
    duck, spark = stores
    differ = [(month, *d) for month in world.MONTHS for d in differing_tables(duck, spark, month)]
    assert differ == []
    # the comparison saw the cases it is meant for: merges, temporary work, a late declaration
    last = snapshot_dir(duck, world.MONTHS[-1])
    assert count(last, "fusions", "true") > 0
    assert count(last, "contrats", "etu_siret IS NOT NULL") > 0
    assert count(last, "declarations", f"siret = '{world.L}' AND mois = DATE '2023-03-01'") > 0


def test_both_engines_write_the_same_files_and_schemas(
    stores: tuple[Warehouse, Warehouse],
) -> None:
    duck, spark = stores
    for month in world.MONTHS:
        assert_same_files_and_schemas(duck, spark, month)
