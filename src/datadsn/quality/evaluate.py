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
from .recall import UnknownAnomaly, anomaly_recall

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


def _declared_identities(truth: Path, secret: Secret) -> pl.DataFrame:
    """``identites_declarees`` with the identity key ingestion gives each row (pseudonyms of the
    NIR, else of names and birth date), each distinct value pseudonymised once."""
    ids = _truth(truth, "identites_declarees")

    def pseudo(column: str, field: str) -> pl.Expr:
        values = ids[column].drop_nulls().unique().to_list()
        mapping = {v: pseudonym(secret, field, v) for v in values}
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)

    names = pl.concat_str(
        pl.lit("~"),
        pseudo("nom", "nom").fill_null(""),
        pl.lit("|"),
        pseudo("prenoms", "prenoms").fill_null(""),
        pl.lit("|"),
        pseudo("date_naissance", "date_naissance").fill_null(""),
    )
    return ids.select(
        "siret",
        pl.coalesce(pseudo("nir", "nir"), names).alias("salarie_key"),
        "numero_contrat",
        "date_debut",
        pl.col("mois").dt.strftime("%Y-%m").alias("mois"),
        "person_id",
        "contrat_id",
    )


def evaluate(store: Warehouse, truth: Path, secret: Secret | None = None) -> dict[str, object]:
    month = snapshot.current_month(store)
    if month is None:
        raise EvaluationError("aucun instantané publié : lancez d'abord `datadsn consolidate`")
    secret = secret or Secret.from_env(demo=True)
    folder = snapshot.snapshot_dir(store, month)
    horizon = months.to_date(month)
    anomalies = _truth(truth, "anomalies")
    con = duckdb.connect()
    try:
        con.register("identites_verite", _declared_identities(truth, secret).to_arrow())
        con.register("contrats_verite_unique", _truth(truth, "contrats").to_arrow())
        con.register("heures_verite", _truth(truth, "heures").to_arrow())
        con.register("remunerations_verite", _truth(truth, "remunerations").to_arrow())
        con.register("anomalies_verite", anomalies.to_arrow())
        for table in ("salaries", "contrats", "fusions", "activites", "contrats_mois"):
            con.execute(f"CREATE VIEW {table} AS {history.table_sql(folder, table)}")
        con.execute(f"CREATE VIEW etablissements AS {history.table_sql(folder, 'etablissements')}")
        for table in ("declaration", "entreprise", "etablissement", "individu", "contrat"):
            con.execute(f"CREATE VIEW raw_{table} AS SELECT * FROM {store.scan_sql(table)}")
        rejections = store.scan_sql("rejections")
        con.execute(
            "CREATE VIEW raw_rejections AS "
            + (
                f"SELECT fichier, ligne FROM {rejections}"
                if rejections
                else "SELECT '' AS fichier, 0 AS ligne WHERE false"
            )
        )
        con.execute(
            _ITEMS.format(
                numero=NUMERO_SQL.format(x="c.numero_contrat"),
                numero_verite=NUMERO_SQL.format(x="numero_contrat"),
                horizon=horizon,
            )
        )
        unscored = con.execute(
            "SELECT count(*) FILTER (WHERE person_id IS NULL), count(*) FROM declarees"
        ).fetchone()
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
        con.execute(_FINS.format(horizon=horizon))
        fins = con.execute(_FINS_TOTALS).fetchone()
        heures = pl.from_arrow(con.execute(_HEURES.format(horizon=horizon)).to_arrow_table())
        first = con.execute("SELECT min(mois_declare) FROM raw_declaration").fetchone()
        try:
            by_kind = anomaly_recall(con, anomalies, horizon)
        except UnknownAnomaly as exc:
            raise EvaluationError(str(exc)) from exc
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
    missing, declared_total = unscored or (0, 0)
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
        "identites_declarees": declared_total,
        # raw identities (SIRET, key, contract key, month) the truth does not explain: 0 when
        # every declared identity is scored
        "identites_non_evaluees": missing,
        "fin_statut_exact": (fin_ok / fin_total) if fin_total else 1.0,
        "contrats_compares": fin_total,
        # ends in the last 3 months cannot all be known yet (3 months of silence rule)
        "fin_statut_exact_hors_3_derniers_mois": (old_ok / old_total) if old_total else 1.0,
        "heures_erreur_relative": _max(errs),
        "brut_erreur_relative": _max(pay),
        "par_anomalie": by_kind,
        "par_mois": heures.to_dicts(),
    }


def _max(values: pl.Series) -> float:
    top = values.cast(pl.Float64).max() if values.len() else None
    return float(top) if isinstance(top, int | float) else 0.0


# Raw contract rows -> the declared identity (SIRET, key, contract key, month) and the truth
# that declared it; then each distinct identity -> predicted (surviving) employee and contract.
_ITEMS = """
CREATE TABLE declarees AS
WITH decl AS (
    SELECT d.fichier, d.ligne, concat(e.siren, t.nic) AS siret
    FROM raw_declaration d
    JOIN raw_entreprise e ON e.fichier = d.fichier AND e.declaration_ligne = d.ligne
    JOIN raw_etablissement t ON t.fichier = d.fichier AND t.declaration_ligne = d.ligne
),
ind AS (
    SELECT i.fichier, i.ligne, x.siret,
           coalesce(i.nir_pseudo,
                    concat('~', coalesce(i.nom_famille_pseudo, ''), '|',
                           coalesce(i.prenoms_pseudo, ''), '|',
                           coalesce(i.date_naissance_pseudo, ''))) AS salarie_key
    FROM raw_individu i JOIN decl x ON x.fichier = i.fichier AND x.ligne = i.declaration_ligne
),
lignes AS (
    SELECT DISTINCT i.siret, i.salarie_key, {numero} AS numero, c.date_debut,
           c.mois_declaration AS mois
    FROM raw_contrat c JOIN ind i ON i.fichier = c.fichier AND i.ligne = c.individu_ligne
    WHERE c.mois_declaration <= strftime(DATE '{horizon}', '%Y-%m')
),
verite AS (
    SELECT siret, salarie_key, {numero_verite} AS numero, date_debut, mois,
           min(person_id) AS person_id, min(contrat_id) AS contrat_id
    FROM identites_verite
    GROUP BY ALL
)
SELECT l.siret, l.salarie_key, concat(l.numero, '_', cast(l.date_debut AS varchar)) AS contrat_key,
       l.mois, v.person_id, v.contrat_id
FROM lignes l
LEFT JOIN verite v ON v.siret = l.siret AND v.salarie_key = l.salarie_key
     AND v.numero = l.numero AND v.date_debut = l.date_debut AND v.mois = l.mois;

CREATE TABLE items_contrats AS
WITH items AS (
    SELECT siret, salarie_key, contrat_key, min(person_id) AS person_id,
           min(contrat_id) AS contrat_id,
           substr(md5(concat('salarie|', siret, '|', salarie_key)), 1, 16) AS hash_salarie,
           substr(md5(concat('contrat|', siret, '|', salarie_key, '|', contrat_key)), 1, 16)
               AS hash_contrat
    FROM declarees
    GROUP BY siret, salarie_key, contrat_key
),
resolved AS (
    SELECT it.*, coalesce(s.salarie_id, fs.id_survivant, it.hash_salarie) AS pred
    FROM items it
    LEFT JOIN salaries s ON s.siret = it.siret AND s.salarie_key = it.salarie_key
         AND s.allocated_from_ett IS NULL
    LEFT JOIN fusions fs ON fs.entite = 'salarie' AND fs.id_absorbe = it.hash_salarie
)
SELECT r.siret, r.salarie_key, r.contrat_key, r.pred,
       CASE WHEN r.person_id IS NOT NULL THEN concat(r.person_id, '|', r.siret) END AS truth,
       coalesce(k.contrat_id, fc.id_survivant, r.hash_contrat) AS pred_contrat,
       r.contrat_id AS truth_contrat
FROM resolved r
LEFT JOIN contrats k ON k.salarie_id = r.pred AND k.contrat_key = r.contrat_key
     AND k.ett_contrat_id IS NULL
LEFT JOIN fusions fc ON fc.entite = 'contrat' AND fc.id_absorbe = r.hash_contrat
"""

# Each truth contract -> the predicted contract most of its items went to; compare the end.
_FINS = """
CREATE TABLE fins AS
WITH votes AS (
    SELECT truth_contrat, pred_contrat, count(*) AS n,
           row_number() OVER (
               PARTITION BY truth_contrat ORDER BY count(*) DESC, pred_contrat
           ) AS rang
    FROM items_contrats WHERE truth_contrat IS NOT NULL
    GROUP BY truth_contrat, pred_contrat
)
SELECT v.truth_contrat, v.pred_contrat, t.date_fin AS fin_vraie, k.date_fin_effective,
       k.statut_fin,
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
"""

_FINS_TOTALS = """
SELECT count(*) FILTER (WHERE exact), count(*),
       count(*) FILTER (WHERE exact AND NOT recent), count(*) FILTER (WHERE NOT recent)
FROM fins
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
