"""The catalogue is declarative and portable; the shipped reference tables are complete."""

from __future__ import annotations

import sqlglot

from datadsn.engine.runner import check_portable, to_spark
from datadsn.indicators import references
from datadsn.indicators.catalogue import CATALOGUE, DIMENSIONS, SQL, get
from datadsn.indicators.compute import BASE_STEPS, aggregation_sql


def test_every_indicator_has_metadata_and_a_portable_sql_step() -> None:
    codes = [ind.code for ind in CATALOGUE]
    assert len(codes) == len(set(codes)) >= 15
    for ind in CATALOGUE:
        assert ind.titre and ind.definition and ind.unite
        assert set(ind.dimensions) <= set(DIMENSIONS)
        assert set(ind.par_defaut) <= set(ind.dimensions) | {ind.part_selon}
        assert check_portable(ind.sql) == []
        assert "FROM ind_base" in to_spark(ind.sql).replace("`", "")


def test_base_steps_and_generated_aggregation_transpile_to_spark() -> None:
    for name in BASE_STEPS:
        sql = (SQL / "base" / f"{name}.sql").read_text(encoding="utf-8")
        assert check_portable(sql) == []
        to_spark(sql)
    agg = aggregation_sql("ind_eff_fin", ["naf_section", "sexe"], get("EFF_FIN"))
    spark = sqlglot.transpile(agg, read="duckdb", write="spark")[0]
    assert "GROUPING SETS" in spark


def test_reference_tables() -> None:
    deps = references.read_csv("departements.csv")
    regions = references.read_csv("regions.csv")
    assert len(deps) == 101 and len(regions) == 18
    assert {d["region"] for d in deps} == {r["region"] for r in regions}
    divisions = references.naf_divisions()
    assert len(divisions) == 88 and all(d["a38"] for d in divisions)
    assert {d["a38"] for d in divisions} == {r["a38"] for r in references.read_csv("naf_a38.csv")}
    assert references.a38_of_division("62") == "JC"
    assert references.departement_of_commune("97411") == "974"
    assert references.departement_of_commune("2A004") == "2A"


def test_refresh_regenerates_norm_code_lists() -> None:
    path = references.refresh()
    labels = references.labels()
    assert path.exists()
    assert labels["nature_contrat"]["02"].startswith("Contrat de travail à durée déterminée")
    assert "059" in labels["motif_rupture"]
