"""Accuracy of the quality base against the simulator's ground truth.

Identity is scored pairwise on the distinct identities declared in the raw store: an employee
item is (SIRET, identity key), a contract item is (SIRET, identity key, contract key). Two items
form a true pair when the truth puts them in the same (person, establishment), resp. contract;
the quality base pairs them when they resolve to the same surviving id (through ``fusions``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from datadsn import months
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret, pseudonym

from . import history, snapshot

NUMERO_SQL = (
    "upper(replace(replace(replace(replace(replace(trim({x}), ' ', ''), '-', ''), '/', ''), "
    "'.', ''), '_', ''))"
)


class EvaluationError(RuntimeError):
    pass


def _pairs(n: pl.Expr) -> pl.Expr:
    return (n * (n - 1) / 2).sum()


def pairwise(items: pl.DataFrame) -> dict[str, float]:
    """Pairwise precision/recall/F1 of columns ``pred`` vs ``truth``."""
    tp = items.group_by("pred", "truth").len().select(_pairs(pl.col("len"))).item()
    pp = items.group_by("pred").len().select(_pairs(pl.col("len"))).item()
    tt = items.group_by("truth").len().select(_pairs(pl.col("len"))).item()
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "items": items.height}


def _truth(truth: Path, name: str) -> pl.DataFrame:
    path = truth / f"{name}.parquet"
    if not path.exists():
        raise EvaluationError(f"vérité terrain absente : {path}")
    return pl.read_parquet(path)


def evaluate(store: Warehouse, truth: Path, secret: Secret | None = None) -> dict[str, object]:
    month = snapshot.current_month(store)
    if month is None:
        raise EvaluationError("aucun instantané publié : lancez d'abord `datadsn consolidate`")
    secret = secret or Secret.from_env(demo=True)
    folder = snapshot.snapshot_dir(store, month)
    horizon = months.to_date(month)

    personnes = _truth(truth, "personnes")
    keys = personnes.select(
        "person_id",
        pl.col("nir").map_elements(lambda v: pseudonym(secret, "nir", v), pl.String).alias("nir"),
        pl.concat_str(
            pl.lit("~"),
            pl.col("nom").map_elements(lambda v: pseudonym(secret, "nom", v), pl.String),
            pl.lit("|"),
            pl.col("prenoms").map_elements(lambda v: pseudonym(secret, "prenoms", v), pl.String),
            pl.lit("|"),
            pl.col("date_naissance").map_elements(
                lambda d: pseudonym(secret, "date_naissance", d.strftime("%d%m%Y")), pl.String
            ),
        ).alias("cle_noms"),
    )
    contrats_truth = _truth(truth, "contrats").explode("numeros")
    con = duckdb.connect()
    try:
        con.register("personnes_cles", keys.to_arrow())
        con.register("contrats_verite", contrats_truth.to_arrow())
        con.register("contrats_verite_unique", _truth(truth, "contrats").to_arrow())
        con.register("heures_verite", _truth(truth, "heures").to_arrow())
        con.register("remunerations_verite", _truth(truth, "remunerations").to_arrow())
        for table in ("salaries", "contrats", "fusions", "activites", "contrats_mois"):
            con.execute(f"CREATE VIEW {table} AS {history.table_sql(folder, table)}")
        for table in ("declaration", "entreprise", "etablissement", "individu", "contrat"):
            con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM {store.scan_sql(table)}")
        con.execute(_ITEMS.format(numero=NUMERO_SQL.format(x="c.numero_contrat"), horizon=horizon))
        salaries = pl.from_arrow(
            con.execute(
                "SELECT DISTINCT siret, salarie_key, pred, truth FROM items_contrats "
                "WHERE truth IS NOT NULL"
            ).to_arrow_table()
        )
        contrats = pl.from_arrow(
            con.execute(
                "SELECT DISTINCT siret, salarie_key, contrat_key, pred_contrat AS pred, "
                "truth_contrat AS truth FROM items_contrats WHERE truth_contrat IS NOT NULL"
            ).to_arrow_table()
        )
        fins = con.execute(_FINS.format(horizon=horizon)).fetchone()
        heures = pl.from_arrow(con.execute(_HEURES.format(horizon=horizon)).to_arrow_table())
        first = con.execute("SELECT min(mois_declare) FROM raw_declaration").fetchone()
    finally:
        con.close()
    assert isinstance(salaries, pl.DataFrame) and isinstance(contrats, pl.DataFrame)
    assert isinstance(heures, pl.DataFrame)
    if salaries.height == 0:
        raise EvaluationError(
            "aucun salarié de l'entrepôt ne correspond à la vérité terrain : la clé de "
            "pseudonymisation (DATADSN_SECRET) est-elle celle de l'ingestion ?"
        )
    s, c = pairwise(salaries), pairwise(contrats)
    fin_ok, fin_total, old_ok, old_total = fins or (0, 0, 0, 0)
    # months before the first declared month only hold the tail of shifted pay periods
    declared = heures.filter(pl.col("mois") >= (first[0] if first and first[0] else horizon))
    errs = declared["erreur_heures"].drop_nulls()
    pay = declared["erreur_brut"].drop_nulls()
    return {
        "mois": month,
        "salarie_precision": s["precision"],
        "salarie_rappel": s["recall"],
        "salarie_f1": s["f1"],
        "contrat_precision": c["precision"],
        "contrat_rappel": c["recall"],
        "contrat_f1": c["f1"],
        "salaries_evalues": s["items"],
        "contrats_evalues": c["items"],
        "fin_statut_exact": (fin_ok / fin_total) if fin_total else 1.0,
        "contrats_compares": fin_total,
        # ends in the last 3 months cannot all be known yet (3 months of silence rule)
        "fin_statut_exact_hors_3_derniers_mois": (old_ok / old_total) if old_total else 1.0,
        "heures_erreur_relative": _max(errs),
        "brut_erreur_relative": _max(pay),
        "par_mois": heures.to_dicts(),
    }


def _max(values: pl.Series) -> float:
    top = values.cast(pl.Float64).max() if values.len() else None
    return float(top) if isinstance(top, int | float) else 0.0


# Raw contract rows -> predicted (surviving) employee and contract ids, and their truth.
_ITEMS = """
CREATE TABLE items_contrats AS
WITH decl AS (
    SELECT d.fichier, d.ligne, concat(e.siren, t.nic) AS siret
    FROM raw_declaration d
    JOIN raw_entreprise e ON e.fichier = d.fichier AND e.declaration_ligne = d.ligne
    JOIN raw_etablissement t ON t.fichier = d.fichier AND t.declaration_ligne = d.ligne
),
ind AS (
    SELECT i.fichier, i.ligne, x.siret, i.nir_pseudo,
           concat('~', coalesce(i.nom_famille_pseudo, ''), '|', coalesce(i.prenoms_pseudo, ''),
                  '|', coalesce(i.date_naissance_pseudo, '')) AS cle_noms
    FROM raw_individu i JOIN decl x ON x.fichier = i.fichier AND x.ligne = i.declaration_ligne
),
rows AS (
    SELECT i.siret, coalesce(i.nir_pseudo, i.cle_noms) AS salarie_key, i.nir_pseudo, i.cle_noms,
           {numero} AS numero, c.date_debut
    FROM raw_contrat c JOIN ind i ON i.fichier = c.fichier AND i.ligne = c.individu_ligne
    WHERE c.mois_declaration <= strftime(DATE '{horizon}', '%Y-%m')
),
items AS (
    SELECT DISTINCT siret, salarie_key, nir_pseudo, cle_noms, numero, date_debut,
           concat(numero, '_', cast(date_debut AS varchar)) AS contrat_key
    FROM rows
),
resolved AS (
    SELECT it.*,
           coalesce(s.salarie_id, fs.id_survivant,
                    substr(md5(concat('salarie|', it.siret, '|', it.salarie_key)), 1, 16)) AS pred
    FROM items it
    LEFT JOIN salaries s ON s.siret = it.siret AND s.salarie_key = it.salarie_key
         AND s.allocated_from_ett IS NULL
    LEFT JOIN fusions fs ON fs.entite = 'salarie'
         AND fs.id_absorbe = substr(md5(concat('salarie|', it.siret, '|', it.salarie_key)), 1, 16)
),
person AS (
    SELECT r.*, coalesce(pn.person_id, pk.person_id) AS person_id
    FROM resolved r
    LEFT JOIN personnes_cles pn ON pn.nir = r.nir_pseudo
    LEFT JOIN personnes_cles pk ON pk.cle_noms = r.cle_noms AND r.nir_pseudo IS NULL
),
candidates AS (
    SELECT p.*, v.contrat_id AS truth_contrat_id,
           substr(md5(concat('contrat|', p.siret, '|', p.salarie_key, '|', p.contrat_key)), 1, 16)
               AS hash_contrat,
           row_number() OVER (PARTITION BY p.siret, p.salarie_key, p.contrat_key
                              ORDER BY (v.date_debut_declaree = p.date_debut) DESC,
                                       (v.date_debut = p.date_debut) DESC, v.contrat_id) AS rang
    FROM person p
    LEFT JOIN contrats_verite v ON v.person_id = p.person_id AND v.siret = p.siret
         AND upper(v.numeros) = p.numero
)
SELECT c.siret, c.salarie_key, c.contrat_key,
       c.pred,
       CASE WHEN c.person_id IS NOT NULL THEN concat(c.person_id, '|', c.siret) END AS truth,
       coalesce(k.contrat_id, fc.id_survivant, c.hash_contrat) AS pred_contrat,
       c.truth_contrat_id AS truth_contrat
FROM candidates c
LEFT JOIN contrats k ON k.salarie_id = c.pred AND k.contrat_key = c.contrat_key
     AND k.ett_contrat_id IS NULL
LEFT JOIN fusions fc ON fc.entite = 'contrat'
     AND fc.id_absorbe = c.hash_contrat
WHERE c.rang = 1
"""

# Each truth contract -> the predicted contract most of its items went to; compare the end.
_FINS = """
WITH votes AS (
    SELECT truth_contrat, pred_contrat, count(*) AS n,
           row_number() OVER (
               PARTITION BY truth_contrat ORDER BY count(*) DESC, pred_contrat
           ) AS rang
    FROM items_contrats WHERE truth_contrat IS NOT NULL
    GROUP BY truth_contrat, pred_contrat
),
compare AS (
    SELECT v.truth_contrat, t.date_fin AS fin_vraie, k.date_fin_effective, k.statut_fin,
           CASE
               WHEN t.date_fin IS NULL OR t.date_fin >= DATE '{horizon}' + INTERVAL 1 MONTH
                   THEN k.statut_fin IS NULL
               ELSE k.statut_fin IS NOT NULL AND k.date_fin_effective = t.date_fin
           END AS exact,
           coalesce(t.date_fin > DATE '{horizon}' - INTERVAL 2 MONTH
                    AND t.date_fin < DATE '{horizon}' + INTERVAL 1 MONTH, false) AS recent
    FROM votes v
    JOIN contrats_verite_unique t ON t.contrat_id = v.truth_contrat
    LEFT JOIN contrats k ON k.contrat_id = v.pred_contrat
    WHERE v.rang = 1
)
SELECT count(*) FILTER (WHERE exact), count(*),
       count(*) FILTER (WHERE exact AND NOT recent), count(*) FILTER (WHERE NOT recent)
FROM compare
"""

# Monthly totals of hours and gross pay, truth vs quality base.
_HEURES = """
WITH v AS (
    SELECT mois, sum(heures_remunerees) AS h, sum(heures_non_remunerees) AS hn,
           sum(heures_supp) AS hs
    FROM heures_verite GROUP BY mois
),
q AS (
    SELECT mois, sum(heures_standards_remunerees) AS h, sum(heures_non_remunerees) AS hn,
           sum(heures_supp_remunerees) AS hs
    FROM activites GROUP BY mois
),
b AS (SELECT mois, sum(brut) AS brut FROM remunerations_verite GROUP BY mois),
bq AS (SELECT mois, sum(remuneration_brute) AS brut FROM contrats_mois GROUP BY mois)
SELECT v.mois, round(v.h, 2) AS heures_vraies, round(cast(q.h AS DOUBLE), 2) AS heures,
       abs(cast(q.h AS DOUBLE) - v.h) / nullif(v.h, 0) AS erreur_heures,
       round(v.hs, 2) AS heures_supp_vraies, round(cast(q.hs AS DOUBLE), 2) AS heures_supp,
       round(b.brut, 2) AS brut_vrai, round(cast(bq.brut AS DOUBLE), 2) AS brut,
       abs(cast(bq.brut AS DOUBLE) - b.brut) / nullif(b.brut, 0) AS erreur_brut
FROM v
LEFT JOIN q ON q.mois = v.mois
LEFT JOIN b ON b.mois = v.mois
LEFT JOIN bq ON bq.mois = v.mois
WHERE v.mois <= DATE '{horizon}'
ORDER BY v.mois
"""
