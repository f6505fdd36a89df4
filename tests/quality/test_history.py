"""History tables read through fusions: rows stored under an id absorbed later resolve to the
survivor, one row per key as a run would have kept it."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from datadsn.quality.history import resolved_count_sql, resolved_sql, stored_sql, table_sql
from datadsn.quality.schema import TABLES

SOURCES = """SELECT * FROM (VALUES
    ('d1', 'A', DATE '2023-01-01', 10.0, 0.0, 1.0, DATE '2023-01-01'),
    ('d1', 'B', DATE '2023-01-01', 5.0, 0.0, 0.0, DATE '2023-01-01'),
    ('d2', 'B', DATE '2023-02-01', 7.0, 0.0, 0.0, DATE '2023-02-01'),
    ('d2', 'C', DATE '2023-02-01', 3.0, 0.0, 0.0, DATE '2023-02-01')
) t(decl_key, contrat_id, mois, heures_standards_remunerees, heures_non_remunerees,
    heures_supp_remunerees, mois_declaration)"""
ACTIVITES = """SELECT * FROM (VALUES
    ('A', DATE '2023-01-01', 10.0, 0.0, 1.0, DATE '2023-01-01'),
    ('B', DATE '2023-01-01', 5.0, 0.0, 0.0, DATE '2023-03-01'),
    ('B', DATE '2023-02-01', 7.0, 0.0, 0.0, DATE '2023-02-01'),
    ('C', DATE '2023-02-01', 3.0, 0.0, 0.0, DATE '2023-02-01')
) t(contrat_id, mois, heures_standards_remunerees, heures_non_remunerees,
    heures_supp_remunerees, date_derniere_declaration)"""
FUSIONS = """SELECT * FROM (VALUES ('contrat', 'A', 'B'), ('salarie', 'C', 'X'))
    t(entite, id_absorbe, id_survivant)"""


def test_hours_of_an_absorbed_contract_add_to_its_survivor() -> None:
    rows = duckdb.sql(
        "SELECT contrat_id, mois, heures_standards_remunerees, heures_supp_remunerees, "
        f"date_derniere_declaration FROM ({resolved_sql('activites', ACTIVITES, FUSIONS)}) "
        "ORDER BY ALL"
    ).fetchall()
    assert [(c, str(m), float(h), float(s), str(d)) for c, m, h, s, d in rows] == [
        ("B", "2023-01-01", 15.0, 1.0, "2023-03-01"),
        ("B", "2023-02-01", 7.0, 0.0, "2023-02-01"),
        ("C", "2023-02-01", 3.0, 0.0, "2023-02-01"),  # a salarie merge leaves contract ids
    ]
    sources = duckdb.sql(
        "SELECT decl_key, contrat_id, heures_standards_remunerees FROM "
        f"({resolved_sql('activites_sources', SOURCES, FUSIONS)}) ORDER BY ALL"
    ).fetchall()
    assert [(k, c, float(h)) for k, c, h in sources] == [
        ("d1", "B", 15.0),
        ("d2", "B", 7.0),
        ("d2", "C", 3.0),
    ]
    for table, stored in (("activites", ACTIVITES), ("activites_sources", SOURCES)):
        counted = duckdb.sql(resolved_count_sql(table, stored, FUSIONS)).fetchone()
        assert counted == (3,)


@pytest.mark.parametrize("seed", range(6))
def test_the_count_of_a_resolved_history_is_that_of_its_rows(seed: int) -> None:
    """The count a run publishes for the carried months (only the rows of merged contracts
    resolved) is the number of rows the resolution reads back, with absorbed ids whose survivor
    has rows in the same month or not, untouched contracts and NULL ids."""
    rng = random.Random(seed)
    ids = [f"c{i}" for i in range(12)] + [None]
    rows = [
        (rng.choice(ids), f"2023-0{rng.randint(1, 4)}-01", rng.randint(0, 9)) for _ in range(60)
    ]
    stored = (
        "SELECT c AS contrat_id, CAST(m AS DATE) AS mois, CAST(h AS DECIMAL(18, 4)) AS "
        "heures_standards_remunerees, CAST(0 AS DECIMAL(18, 4)) AS heures_non_remunerees, "
        "CAST(0 AS DECIMAL(18, 4)) AS heures_supp_remunerees, CAST(m AS DATE) AS "
        f"date_derniere_declaration FROM (VALUES {', '.join(map(_literal, rows))}) t(c, m, h)"
    )
    absorbed = rng.sample(ids[:-1], 5)
    survivors = [i for i in ids[:-1] if i not in absorbed]
    pairs = [("contrat", a, rng.choice(survivors)) for a in absorbed] + [("salarie", "c0", "c1")]
    fusions = (
        f"SELECT * FROM (VALUES {', '.join(map(_literal, pairs))}) "
        "t(entite, id_absorbe, id_survivant)"
    )
    read = duckdb.sql(f"SELECT count(*) FROM ({resolved_sql('activites', stored, fusions)})")
    assert (
        duckdb.sql(resolved_count_sql("activites", stored, fusions)).fetchone() == read.fetchone()
    )


def _literal(row: tuple[object, ...]) -> str:
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in row) + ")"


def test_contrats_mois_keeps_the_latest_version_after_resolution(tmp_path: Path) -> None:
    folder = tmp_path / "2023-02"
    (folder / "contrats_mois").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE cm ({', '.join(f'{c} {t}' for c, t in TABLES['contrats_mois'].items())})"
    )
    con.execute(
        "INSERT INTO cm (contrat_id, mois, decl_key, nature_contrat, version_declaration) VALUES "
        "('A', DATE '2023-01-01', 'k1', '01', 'v1'), ('B', DATE '2023-01-01', 'k2', '02', 'v2')"
    )
    con.execute(f"COPY cm TO '{folder / 'contrats_mois' / '2023-01.parquet'}'")
    con.execute(f"COPY ({FUSIONS}) TO '{folder / 'fusions.parquet'}'")  # A absorbed by B
    sql = table_sql(folder, "contrats_mois")
    assert sql is not None
    rows = con.execute(f"SELECT contrat_id, decl_key, nature_contrat FROM ({sql})").fetchall()
    assert rows == [("B", "k2", "02")]
    stored = con.execute(f"SELECT count(*) FROM ({stored_sql(folder, 'contrats_mois')})")
    assert stored.fetchone() == (2,)
    assert table_sql(folder, "activites") is None  # no such history in this folder


def test_an_older_archive_file_reads_by_column_name_in_portable_sql(tmp_path: Path) -> None:
    """An archive file written before a column existed reads it as NULL; the union is a plain
    UNION ALL of the declared columns, which Spark SQL can run (it has no UNION BY NAME)."""
    from datadsn.engine.backends.spark import translate
    from datadsn.quality.history import ARCHIVES
    from datadsn.quality.schema import select_list

    newest = list(TABLES["contrats"])[-1]  # version_declaration, VARCHAR
    row = f"SELECT * REPLACE ('v2' AS {newest}) FROM (SELECT {select_list('contrats', set())})"
    archive = tmp_path / ARCHIVES["contrats"]
    archive.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY ({row}) TO '{tmp_path}/contrats.parquet'")
    con.execute(f"COPY (SELECT * EXCLUDE ({newest}) FROM ({row})) TO '{archive}/2023-01.parquet'")
    sql = table_sql(tmp_path, "contrats")
    assert sql is not None
    assert con.execute(f"SELECT {newest} FROM ({sql}) ORDER BY 1").fetchall() == [("v2",), (None,)]
    assert "BY NAME" not in translate(sql)[0].upper()
