"""Indicators of the catalogue that count the same thing (EFF_FIN, PYRAMIDE_AGES and the
numerator of REPARTITION_CONTRATS: postes at the end of the period) are one quantity: a cell
masked in one is masked in the others, and the attacker solves them together."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.engine.warehouse import Warehouse
from datadsn.flows.run import run
from datadsn.indicators import public
from datadsn.indicators.attacker import Holding, attack
from datadsn.indicators.catalogue import get, measure
from datadsn.indicators.compute import TOTAL, Session
from datadsn.indicators.rules import Rules
from tests.economy import consolidated_economy

from .conftest import hab_info
from .helpers import largest_region, masked_sections, region_flow

MONTH = "2023-02"


def test_the_catalogue_names_indicators_of_one_quantity() -> None:
    assert measure("PYRAMIDE_AGES") == measure("EFF_FIN") == measure("REPARTITION_CONTRATS")
    assert measure("EFF_MOY") != measure("EFF_FIN")
    assert measure("MASSE_SALARIALE") == "MASSE_SALARIALE"


def test_the_attacker_reads_a_cell_masked_in_one_indicator_in_another() -> None:
    """EFF_FIN masks a département; the PYRAMIDE_AGES table by département, its ages summed,
    publishes the same figure."""
    eff = Holding(
        "effectifs", "EFF_FIN", "mois", Rules(), ["departement"],
        pl.DataFrame({"periode": ["2024-01"] * 3, "departement": ["35", "29", TOTAL],
                      "valeur": [100.0, None, None],
                      "statut": ["publie", "masque_primaire", "masque_secondaire"]}),
    )  # fmt: skip
    pyramid = Holding(
        "pyramide", "PYRAMIDE_AGES", "mois", Rules(), ["departement"],
        pl.DataFrame({"periode": ["2024-01"] * 3, "departement": ["35", "29", TOTAL],
                      "valeur": [None, None, 120.0],
                      "statut": ["masque_secondaire", "masque_primaire", "publie"]}),
    )  # fmt: skip
    assert attack([eff]) == [] and attack([pyramid]) == []
    [problem] = attack([eff, pyramid])
    assert "departement=29" in problem and "[20 ; 20]" in problem


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return consolidated_economy(
        tmp_path_factory.mktemp("liees"), employers=45, months=("2023-01", MONTH), seed=11
    )


def test_a_flow_of_pyramide_ages_keeps_what_eff_fin_masked(
    store: Warehouse, tmp_path: Path
) -> None:
    region = largest_region(store, MONTH)
    table = tmp_path / "effectifs.csv"
    done = CliRunner().invoke(
        app,
        ["indicators", "compute", "EFF_FIN", "--by", "region,naf_section", "--from", MONTH,
         "--to", MONTH, "--out", str(table), "--no-chart", "-w", str(store.root)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    masked = masked_sections(table, region)
    assert masked
    spec = region_flow("pyramide-region", region, "PYRAMIDE_AGES")
    hab = hab_info(region)
    hab.scope["indicateurs"] = ["PYRAMIDE_AGES"]
    delivered = run(spec, store, MONTH, hab, threads=1)
    flow_masked = masked_sections(
        delivered.folder / "pyramide-region_pyramide_ages.csv",  # type: ignore[operator]
        None,
    )
    # The same postes: every section EFF_FIN masked in the région stays masked.
    assert masked <= flow_masked, (masked, flow_masked)


def test_the_release_masks_the_same_cells_in_both_indicators(store: Warehouse) -> None:
    """After the flow above, the monthly release masks the same cells of EFF_FIN and of
    PYRAMIDE_AGES: their tables by one dimension are the same figures, protected alike."""
    session = Session(store, threads=1)
    try:
        done = public.release(
            session, store.root, MONTH, Rules(), (get("EFF_FIN"), get("PYRAMIDE_AGES"))
        )
    finally:
        session.close()
    keys = ["periode", "dimension", "code"]
    eff = done.publication.cells("EFF_FIN").select(*keys, "valeur", "statut")
    pyramid = done.publication.cells("PYRAMIDE_AGES").select(*keys, "valeur", "statut")
    both = eff.join(pyramid, on=keys, suffix="_pyramide")
    assert both.height > 0 and (both["statut"] != "publie").any()
    assert both.filter(pl.col("statut") != pl.col("statut_pyramide")).is_empty()
    assert both.filter(pl.col("valeur").ne_missing(pl.col("valeur_pyramide"))).is_empty()
