import time
from pathlib import Path

import duckdb

from datadsn.quality.consolidate import CATALOGUE, DEPENDENCIES, consolidate, pipeline
from tests.quality.scenario import Contrat, Salarie, Scenario, declaration


def test_one_month_one_contract(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    sc.run("2023-01", declaration("2023-01"))
    salaries = sc.table("salaries")
    contrats = sc.table("contrats")
    assert len(salaries) == 1 and len(contrats) == 1
    assert contrats[0]["contrat_key"] == "C0001_2022-01-01"
    assert contrats[0]["statut_fin"] is None
    activites = sc.table("activites")
    assert [(str(a["mois"]), float(a["heures_standards_remunerees"])) for a in activites] == [
        ("2023-01-01", 151.67)
    ]
    assert sc.rows("select count(*) from contrats") == [(1,)]
    assert sc.rows("select count(*) from quality_2023_01.salaries") == [(1,)]


def test_a_signalement_without_declared_month_ends_its_contract(tmp_path: Path) -> None:
    """A signalement of contract end (nature 07, FCTU) may carry no declared month
    (S20.G00.05.005): its constitution date stands in, as for its raw partition. Such
    declarations were loaded, then dropped by the staging without a word."""
    sc = Scenario(tmp_path)
    sc.run("2023-01", declaration("2023-01"))
    ended = Salarie(contrats=[Contrat(fin=("2023-02-10", "031"), heures=None)])
    lines = declaration("2023-02", salaries=[ended], constitution="2023-02-15")
    fctu = [("S20.G00.05.001", "07") if r == "S20.G00.05.001" else (r, v) for r, v in lines]
    sc.run("2023-02", [(r, v) for r, v in fctu if r != "S20.G00.05.005"])
    (contrat,) = sc.table("contrats")
    assert (contrat["statut_fin"], str(contrat["date_fin_effective"])) == (2, "2023-02-10")
    months = sorted((str(d["mois"]), d["decl_key"].count("_07_")) for d in sc.table("declarations"))
    assert months == [("2023-01-01", 0), ("2023-02-01", 1)]  # the monthly one, the FCTU
    assert sc.rows("select declarations from chargements where mois = '2023-02-01'") == [(1,)]


def test_a_stored_declaration_with_two_establishments_is_left_out_and_reported(
    tmp_path: Path,
) -> None:
    """The ingestion rejects a declaration with two establishment blocks; a raw store written
    before it did may hold one, which the consolidation joined to each establishment at every
    step until the disk was full. It is now left out, and counted."""
    sc = Scenario(tmp_path)
    sc.ingest(declaration("2023-01", "11111111100011"), declaration("2023-01", "22222222200022"))
    (raw,) = (sc.store.raw / "etablissement").rglob("*.parquet")
    con = duckdb.connect()
    second = (
        "SELECT * REPLACE (ligne + 1000 AS ligne, '00099' AS nic) FROM read_parquet(?) "
        "WHERE nic = '00011'"
    )
    con.execute(
        f"COPY (SELECT * FROM read_parquet(?) UNION ALL {second}) TO '{raw}.new' (FORMAT parquet)",
        [str(raw), str(raw)],
    )
    Path(f"{raw}.new").replace(raw)
    summary = consolidate(sc.store, "2023-01")
    assert (summary.declarations, summary.several_establishments) == (2, 1)
    assert [e["siret"] for e in sc.table("etablissements")] == ["22222222200022"]
    assert len(sc.table("salaries")) == 1


def test_a_run_reports_the_cpu_and_memory_of_each_step_and_fixed_cost(tmp_path: Path) -> None:
    """The profile of a run: on DuckDB with one thread per step, each step's CPU time is its
    thread's; the parts no step runs beside count every thread of the process. Together they
    cannot exceed the process's CPU over the run. Each ends with the process's peak memory."""
    sc = Scenario(tmp_path)
    sc.ingest(declaration("2023-01"))
    before = time.process_time()
    summary = consolidate(sc.store, "2023-01", threads=1)
    spent = time.process_time() - before
    phases = {"lecture des déclarations", DEPENDENCIES, "publication", CATALOGUE}
    assert set(summary.cpu) == set(summary.seconds) == set(pipeline().order) | phases
    assert all(seconds >= 0 for seconds in summary.cpu.values())
    assert sum(summary.cpu.values()) <= spent
    assert set(summary.peak_mib) == set(summary.cpu)
    assert 0 < summary.peak_mib["lecture des déclarations"] <= summary.peak_mib["publication"]
    # two DuckDB threads a step: their workers serve both steps at once, so only the parts
    # that run alone have a CPU time
    sc.ingest(declaration("2023-02"))
    summary = consolidate(sc.store, "2023-02", threads=2)
    assert set(summary.cpu) == phases
