"""Benchmark: the whole catalogue over N months on a synthetic quality snapshot.

Simulating, ingesting and consolidating a million employees would take far longer than the
indicators themselves, so the benchmark writes consolidated tables of the same schema directly
(DuckDB generators, deterministic hashes), then times ``compute`` + primary and secondary secrecy
for every indicator of the catalogue with its default dimensions, by month, and the attack on
each table (the audit), against the same cells computed without secrecy (their ratio).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb

from datadsn import months as month_list
from datadsn.engine.warehouse import Warehouse
from datadsn.indicators import release
from datadsn.indicators.attacker import Holding, attack
from datadsn.indicators.catalogue import CATALOGUE
from datadsn.indicators.compute import Session, compute_cells, precompute_cells
from datadsn.indicators.publish import joint_dims, protected_table
from datadsn.indicators.rules import Rules

_NAF = ["4711D", "5610A", "4120A", "6201Z", "8610Z", "8710A", "1071C", "2511Z", "7820Z", "4941A"]
_CP = ["75011", "13001", "69003", "31000", "44000", "59000", "35000", "20000", "97400", "63000"]


def _h(expr: str, salt: int, mod: int) -> str:
    return f"CAST(hash({expr}, {salt}) % {mod} AS BIGINT)"


def build_synthetic(root: Path, employees: int, months: int, first: str = "2023-01") -> Warehouse:
    """Write synthetic quality tables under ``root`` as the snapshot of the last month (the
    layout sessions read), and a catalogue with their plain names."""
    root.mkdir(parents=True, exist_ok=True)
    n_etab = max(employees // 15, 10)
    start = f"DATE '{first}-01'"
    end = f"({start} + INTERVAL {months} MONTH - INTERVAL 1 DAY)"
    naf = "[" + ", ".join(f"'{c}'" for c in _NAF) + "]"
    cps = "[" + ", ".join(f"'{c}'" for c in _CP) + "]"
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    tables = {
        "etablissements": f"""
            SELECT 'E' || i AS etablissement_id, 'N' || (i // 2) AS entreprise_id,
                -- SIREN of its enterprise (two establishments each), then the NIC: enterprise
                -- rules count SIRENs, and one SIREN for all would mask every cell.
                CAST(100000000 + i // 2 AS VARCHAR) || lpad(CAST(i % 2 + 1 AS VARCHAR), 5, '0')
                    AS siret,
                {naf}[1 + {_h("i", 1, len(_NAF))}] AS code_naf,
                {cps}[1 + {_h("i", 2, len(_CP))}] AS code_postal,
                '1486' AS code_convention_collective
            FROM range({n_etab}) t(i)""",
        "salaries": f"""
            SELECT 'S' || i AS salarie_id, CASE WHEN {_h("i", 3, 2)} = 0 THEN '01' ELSE '02' END
                AS sexe, CAST(1958 + {_h("i", 4, 45)} AS SMALLINT) AS annee_naissance,
                CAST(1 + {_h("i", 5, 12)} AS TINYINT) AS mois_naissance
            FROM range({employees}) t(i)""",
        # One long contract per employee, plus 30 % short fixed-term ones inside the window.
        "contrats": f"""
            WITH base AS (
                SELECT i, i % {employees} AS s, i >= {employees} AS court FROM
                range({employees + (employees * 3) // 10}) t(i)
            ), dated AS (
                SELECT *, CASE WHEN court
                    THEN {start} + CAST({_h("i", 6, months * 30)} AS INTEGER)
                    ELSE {start} - CAST({_h("i", 7, 3000)} AS INTEGER) END AS debut
                FROM base
            )
            SELECT 'C' || i AS contrat_id, 'E' || {_h("s", 8, n_etab)} AS etablissement_id,
                'S' || s AS salarie_id, CASE WHEN court THEN '02' ELSE '01' END AS nature_contrat,
                CASE WHEN court THEN '02' END AS motif_recours, debut AS date_debut,
                CAST(NULL AS DATE) AS date_debut_effective, '10' AS unite_mesure_quotite,
                CAST(CASE WHEN {_h("i", 9, 5)} = 0 THEN 104.0 ELSE 151.67 END AS DECIMAL(18, 2))
                    AS quotite_contrat,
                CASE WHEN court THEN debut + CAST(5 + {_h("i", 10, 60)} AS INTEGER) END
                    AS date_fin_previsionnelle,
                CASE WHEN court THEN least(debut + CAST(5 + {_h("i", 10, 60)} AS INTEGER), {end})
                     WHEN {_h("i", 11, 10)} = 0
                        THEN {start} + CAST({_h("i", 12, months * 30)} AS INTEGER) END
                    AS date_fin_effective,
                CASE WHEN court THEN '031' WHEN {_h("i", 11, 10)} = 0 THEN '059' END
                    AS motif_rupture,
                CAST(NULL AS VARCHAR) AS ett_contrat_id
            FROM dated""",
    }
    folder = root / "quality" / month_list.shift(first, months - 1)
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / "CURRENT").write_text(folder.name + "\n", encoding="utf-8")
    for name, sql in tables.items():
        con.execute(f"COPY ({sql}) TO '{folder / name}.parquet' (FORMAT parquet)")
    con.execute(f"CREATE VIEW contrats AS SELECT * FROM '{folder / 'contrats'}.parquet'")
    months_sql = f"""
        SELECT c.contrat_id, m.mois, c.nature_contrat, c.unite_mesure_quotite, c.quotite_contrat,
            c.date_fin_effective
        FROM contrats c JOIN (
            SELECT CAST({start} + INTERVAL (k) MONTH AS DATE) AS mois FROM range({months}) t(k)
        ) m ON c.date_debut <= m.mois + INTERVAL 1 MONTH - INTERVAL 1 DAY
            AND (c.date_fin_effective IS NULL OR c.date_fin_effective >= m.mois)"""
    # One file per month for the monthly tables, as in a quality snapshot (history.PARTITIONED).
    con.execute(
        f"""CREATE TABLE mensuel AS SELECT contrat_id, mois, nature_contrat,
            unite_mesure_quotite, quotite_contrat,
            CAST(1800 + {_h("contrat_id || mois", 13, 2500)} AS DECIMAL(18, 2))
                AS remuneration_brute,
            CAST(quotite_contrat AS DECIMAL(18, 4)) AS heures_standards_remunerees,
            CAST(0 AS DECIMAL(18, 4)) AS heures_non_remunerees,
            CAST({_h("contrat_id || mois", 14, 8)} AS DECIMAL(18, 4)) AS heures_supp_remunerees
        FROM ({months_sql})"""
    )
    monthly = {
        "contrats_mois": "nature_contrat, unite_mesure_quotite, quotite_contrat, "
        "remuneration_brute",
        "activites": "heures_standards_remunerees, heures_non_remunerees, heures_supp_remunerees",
    }
    for (month,) in con.execute("SELECT DISTINCT mois FROM mensuel ORDER BY 1").fetchall():
        for name, columns in monthly.items():
            target = folder / name / f"{month:%Y-%m}.parquet"
            target.parent.mkdir(exist_ok=True)
            con.execute(
                f"COPY (SELECT contrat_id, mois, {columns} FROM mensuel WHERE mois = ?) "
                f"TO '{target}' (FORMAT parquet)",
                [month],
            )
    con.close()
    store = Warehouse(root)
    with duckdb.connect(str(store.catalog)) as cat:
        for name in ("etablissements", "salaries", "contrats"):
            cat.execute(f"CREATE VIEW {name} AS SELECT * FROM '{folder / name}.parquet'")
        for name in monthly:
            cat.execute(f"CREATE VIEW {name} AS SELECT * FROM '{folder / name}/*.parquet'")
    return store


def bench_indicators(employees: int = 1_000_000, months: int = 24) -> dict:
    """Time the whole catalogue (compute + secrecy) over ``months`` months; figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="datadsn-bench-ind-") as tmp:
        t0 = time.perf_counter()
        store = build_synthetic(Path(tmp), employees, months)
        built = time.perf_counter() - t0
        first = "2023-01"
        last = month_list.shift(first, months - 1)
        session = Session(store)
        per_indicator: dict[str, float] = {}
        t1 = time.perf_counter()
        session.prepare(first, last, "mois")
        base = time.perf_counter() - t1
        rows = session.backend.rows("SELECT count(*) FROM ind_base")[0]
        requests = [(ind, joint_dims(ind, list(ind.par_defaut))) for ind in CATALOGUE]
        # Without secrecy: the same cells (cube of each default table), nothing protected.
        t = time.perf_counter()
        precompute_cells(session, requests, first, last, "mois")
        for ind, joint in requests:
            compute_cells(session, ind, joint, first, last, "mois")
        plain = time.perf_counter() - t
        t2 = time.perf_counter()
        precompute_cells(session, requests, first, last, "mois")
        batched = time.perf_counter() - t2
        audited = 0.0
        for ind in CATALOGUE:
            t = time.perf_counter()
            cells, dims = protected_table(
                session, ind, list(ind.par_defaut), first, last, "mois", Rules()
            )
            per_indicator[ind.code] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()
            if ind.additif:
                table = release.published_table(cells, ind, dims)
                table = table.select("periode", *dims, "valeur", "statut")
                attack([Holding(ind.code, ind.code, "mois", Rules(), dims, table)])
            audited += time.perf_counter() - t
        secret = time.perf_counter() - t2
        total = base + secret
        session.close()
    return {
        "salaries": employees,
        "mois": months,
        "postes_mois": int(rows[0]) if rows else 0,
        "preparation_donnees_s": round(built, 2),
        "couche_de_base_s": round(base, 2),
        "agregation_groupee_s": round(batched, 2),
        "catalogue_complet_s": round(total, 2),
        # the catalogue after the base layer, without secrecy, then with it and the audit
        "sans_secret_s": round(plain, 2),
        "avec_secret_et_audit_s": round(secret, 2),
        "dont_audit_s": round(audited, 2),
        "rapport_secret": round(secret / plain, 2) if plain else None,
        "rapport_catalogue_complet": round(total / (base + plain), 2),
        "par_indicateur_s": per_indicator,
        "extrapolation_1M_s": round(total * 1_000_000 / employees, 1),
    }


def bench_release(employees: int = 400, months: int = 6, repeats: int = 3) -> dict:
    """Time ``public.release`` of the last month (compute, joint secondary suppression, attacker
    audit, publication) on a fresh synthetic snapshot each time (an empty suppression ledger, so
    that every run protects the same cells); the median of ``repeats`` runs."""
    from datadsn.indicators.public import release as publish_month

    first = "2023-01"
    runs, masked = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="datadsn-bench-rel-") as tmp:
            store = build_synthetic(Path(tmp), employees, months, first)
            session = Session(store)
            t = time.perf_counter()
            done = publish_month(session, Path(tmp), month_list.shift(first, months - 1), Rules())
            runs.append(time.perf_counter() - t)
            masked = done.masked
            session.close()
    runs.sort()
    return {
        "salaries": employees,
        "mois": months,
        "cases_masquees": masked,
        "publication_mediane_s": round(runs[len(runs) // 2], 2),
        "publication_runs_s": [round(r, 2) for r in runs],
    }
