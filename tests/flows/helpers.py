"""Helpers shared by the flow tests on a simulated warehouse."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from datadsn.engine.warehouse import Warehouse
from datadsn.flows.spec import FlowSpec, parse
from datadsn.indicators.compute import TOTAL, Session


def largest_region(store: Warehouse, month: str) -> str:
    """The région with the most postes in ``month`` (the one with enough enterprises to deliver)."""
    session = Session(store, threads=1)
    session.prepare(month, month, "mois")
    row = session.con.execute(
        "SELECT d_region, count(*) AS n FROM ind_base_dims GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
    ).fetchone()
    session.close()
    assert row is not None
    return str(row[0])


def masked_sections(path: Path, region: str | None) -> set[str]:
    """The NAF sections masked in a released CSV (the région's row if given, all ages)."""
    table = pl.read_csv(path, infer_schema=False)
    if region is not None:
        table = table.filter(pl.col("region") == region)
    if "tranche_age" in table.columns:
        table = table.filter(pl.col("tranche_age") == TOTAL)
    inner = table.filter(pl.col("naf_section") != TOTAL, pl.col("statut") != "publie")
    return set(inner["naf_section"])


def region_flow(name: str, region: str, code: str = "EFF_FIN") -> FlowSpec:
    """A monthly CSV flow of one indicator by NAF section over one région, for H1."""
    return parse(
        {
            "version": 1,
            "nom": name,
            "habilitation": "H1",
            "perimetre": {"regions": [region]},
            "indicateurs": [{"code": code, "dimensions": ["naf_section"]}],
            "periodicite": "mois",
            "formats": ["csv"],
        }
    )
