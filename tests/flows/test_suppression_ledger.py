"""One suppression ledger per period: a cell masked once stays masked in every later delivery,
computed table and public release of that period."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.engine.warehouse import Warehouse
from datadsn.flows import adapter
from datadsn.flows.run import RunError, run
from datadsn.indicators import public
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import TOTAL, Session
from datadsn.indicators.publish import protected_table
from datadsn.indicators.rules import Rules
from datadsn.indicators.suppression import Ledger, population_and_cell
from tests.economy import consolidated_economy

from .conftest import hab_info
from .helpers import largest_region, masked_sections, region_flow

MONTH = "2023-02"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A warehouse of its own: its ledger fills up as the tests deliver."""
    return consolidated_economy(
        tmp_path_factory.mktemp("registre"), employers=45, months=("2023-01", MONTH), seed=11
    )


@pytest.fixture(scope="module")
def region(store: Warehouse) -> str:
    return largest_region(store, MONTH)


def _spec(region: str) -> Any:
    return region_flow("effectifs-registre", region)


def _masked(cells: pl.DataFrame) -> set[str]:
    inner = cells.filter(pl.col("naf_section") != TOTAL)
    return set(inner.filter(pl.col("masque_primaire") | pl.col("masque_secondaire"))["naf_section"])


def _compute(store: Warehouse, out: Path, by: str) -> None:
    result = CliRunner().invoke(
        app,
        ["indicators", "compute", "EFF_FIN", "--by", by, "--from", MONTH, "--to", MONTH,
         "--out", str(out), "--no-chart", "-w", str(store.root)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_cells_are_named_by_their_population_whatever_the_table() -> None:
    # a flow on one région: its départements and its total are the public cells
    assert population_and_cell({"regions": ["84"]}, ["departement"], ["01"]) == (
        "",
        "departement=01",
    )
    assert population_and_cell({"regions": ["84"]}, ["naf_section"], [TOTAL]) == ("", "region=84")
    assert population_and_cell(None, ["region", "departement"], ["84", "01"]) == (
        "",
        "departement=01",
    )
    # a list of companies is a population of its own
    population, cell = population_and_cell({"siren": ["2", "1"]}, ["sexe"], ["01"])
    assert (population, cell) == ("siren=1,2", "sexe=01")
    assert population_and_cell({"naf": ["47"]}, ["region"], ["84"]) == (
        "",
        "naf_a88=47|region=84",
    )
    assert population_and_cell({"naf": ["4711"]}, ["region"], ["84"])[0] == "naf=4711"


def test_a_cell_masked_by_a_table_stays_masked_in_a_later_flow(
    store: Warehouse, region: str, tmp_path: Path
) -> None:
    spec = _spec(region)
    # Without the ledger, the two tables mask different cells of the région: the attack this
    # test replays (the table and the flow together give the cells only one of them masks).
    session = Session(store, threads=2)
    alone, _ = protected_table(
        session, get("EFF_FIN"), ["region", "naf_section"], MONTH, MONTH, "mois", Rules()
    )
    session.close()
    in_table = _masked(alone.filter(pl.col("region") == region))
    scoped = adapter.ScopedSession(store, spec.perimetre, threads=2)
    flow_alone, _ = protected_table(
        scoped, get("EFF_FIN"), ["naf_section"], MONTH, MONTH, "mois", Rules()
    )
    scoped.close()
    assert _masked(flow_alone) != in_table

    _compute(store, tmp_path / "table.csv", "region,naf_section")
    table_masked = masked_sections(tmp_path / "table.csv", region)
    assert table_masked == in_table
    assert Ledger(store.root).path(MONTH).exists()

    done = run(spec, store, MONTH, hab_info(region))
    flow_file = done.folder / "effectifs-registre_eff_fin.csv"  # type: ignore[operator]
    flow_masked = masked_sections(flow_file, None)
    assert table_masked <= flow_masked

    # A later table of the same period masks at least what both masked: nothing is unmasked.
    _compute(store, tmp_path / "ensuite.csv", "naf_section,region")
    later = masked_sections(tmp_path / "ensuite.csv", region)
    assert (table_masked | flow_masked) <= later
    # Running the flow again changes nothing it delivered.
    again = run(spec, store, MONTH, hab_info(region))
    assert again.status == "inchange"


def test_the_public_release_keeps_what_deliveries_masked(store: Warehouse, region: str) -> None:
    ledger = Ledger(store.root)
    known = ledger.read([MONTH]).filter(
        pl.col("indicateur") == "EFF_FIN", pl.col("population") == ""
    )
    assert known.height > 0
    session = Session(store, threads=2)
    try:
        done = public.release(session, store.root, MONTH, Rules(), (get("EFF_FIN"),))
        first = done.publication.cells("EFF_FIN")
        again = public.release(session, store.root, MONTH, Rules(), (get("EFF_FIN"),))
    finally:
        session.close()
    cells = first.filter(pl.col("periode") == MONTH)
    masked = {
        ("" if d == "national" else f"{d}={c}")
        for d, c, s in zip(cells["dimension"], cells["code"], cells["statut"], strict=True)
        if s != "publie"
    }
    public_cells = {
        "" if d == "national" else f"{d}={c}"
        for d, c in zip(cells["dimension"], cells["code"], strict=True)
    }
    recorded = set(known["cellule"]) & public_cells
    assert recorded, "the deliveries share cells with the public tables"
    assert recorded <= masked
    # the release is in the ledger too: the next version keeps the same cells
    assert again.publication.version == done.publication.version + 1
    assert again.publication.cells("EFF_FIN").equals(first)


def _audit(store: Warehouse, *args: str):
    return CliRunner().invoke(app, ["indicators", "audit", *args, "-w", str(store.root)])


def test_the_attacker_audit_of_every_holding_passes(store: Warehouse, region: str) -> None:
    held = adapter.holdings(store, ["H1"])
    assert any(h.name.startswith("publication") for h in held)
    # one table delivered (its version folder behind the link is not read twice)
    assert len([h for h in held if h.name.startswith("effectifs-registre")]) == 1
    done = _audit(store, "--habilitation", "H1")
    assert done.exit_code == 0, done.output
    assert "aucune" in done.output and "✓" in done.output
    assert _audit(store, "--toutes").exit_code == 0


def _leaked_delivery(store: Warehouse, region: str) -> Path:
    """A delivery that gives too much away (as tables protected one by one did): the flow's
    table of the région by NAF section with every cell but one primary cell published."""
    from datadsn.indicators import release

    scoped = adapter.ScopedSession(store, _spec(region).perimetre, threads=2)
    indicator = get("EFF_FIN")
    cells, dims = protected_table(scoped, indicator, ["naf_section"], MONTH, MONTH, "mois", Rules())
    scoped.close()
    inner = cells.filter(pl.col("naf_section") != TOTAL, pl.col("masque_primaire"))
    assert inner.height > 0
    # everything published but one primary cell, which the région's total then gives away
    kept = pl.col("naf_section") == inner["naf_section"][0]
    leaked = cells.with_columns(
        kept.alias("masque_primaire"), pl.lit(False).alias("masque_secondaire")
    )
    table = release.published_table(leaked, indicator, dims)
    meta = release.metadata(indicator, dims, "mois", MONTH, MONTH, Rules(), table, "test")
    folder = store.root / "deliveries" / "H9" / MONTH / "ancien"
    release.write(table, meta, folder / "ancien_eff_fin.csv")
    manifest = {
        "perimetre": {"regions": [region]},
        "fichiers": [{"nom": "ancien_eff_fin.csv", "empreinte_contenu": meta["empreinte_sha256"]}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_the_audit_names_a_cell_a_recipient_pins_and_flows_refuse_to_deliver(
    store: Warehouse, region: str
) -> None:
    folder = _leaked_delivery(store, region)
    try:
        alone = _audit(store, "--habilitation", "H9")
        assert alone.exit_code == 1
        assert f"EFF_FIN {MONTH} (" in alone.output and "encadrée dans" in alone.output
        assert _audit(store, "--habilitation", "H1").exit_code == 0  # H1 does not hold it
        assert _audit(store, "--toutes").exit_code == 1  # pooled, it pins the cell
        with pytest.raises(RunError, match="rien n'est livré"):
            run(_spec(region), store, MONTH, hab_info(region))
    finally:
        shutil.rmtree(folder.parent.parent)


def test_an_extract_delivered_is_not_read_as_a_table(store: Warehouse) -> None:
    folder = store.root / "deliveries" / "H8" / MONTH / "extrait"
    folder.mkdir(parents=True)
    try:
        (folder / "extrait_extraction.csv").write_text("mois,sexe\n2023-02,01\n", encoding="utf-8")
        manifest = {"fichiers": [{"nom": "extrait_extraction.csv", "empreinte_contenu": "x"}]}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        held = adapter.holdings(store, ["H8"])
        assert all(h.name.startswith("publication") for h in held)
    finally:
        shutil.rmtree(folder.parent.parent)
