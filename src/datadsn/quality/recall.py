"""Recall per kind of injected noise: how many of the simulator's anomalies the quality base
resolved, each kind judged by what it would break (``evaluate`` calls this once its items, ends
and truth tables are in the connection).

| criterion | an event is resolved when |
|---|---|
| salarie | the (person, establishment)'s declared identities all went to one employee, alone |
| contrat | the same for the contract |
| fin | the contract's end (status and date) is the true one |
| transfert | the contract it continues is closed the day before, and it is one contract |
| fermeture | every contract the closure ended has its true end |
| heures | the month's paid hours of the contract are the true ones (within 0.05 h) |
| declaration | the company's gross pay of the month is the true one (counted once, not lost), |
|  | leaving out the contract-months a negative correction overstated |
| ligne | the line is in the ingestion's rejections |
"""

from __future__ import annotations

import duckdb
import polars as pl

CRITERIA = {
    "identity_change_with_block": "salarie",
    "identity_change_without_block": "salarie",
    "fragmented_change": "salarie",
    "nir_correction": "salarie",
    "nir_correction_without_block": "salarie",
    "nir_absent_then_present": "salarie",
    "name_change_without_nir": "salarie",
    "name_change_without_nir_without_block": "salarie",
    "several_fields_change": "salarie",
    "several_fields_change_without_block": "salarie",
    "contract_number_change": "contrat",
    "contract_number_change_without_block": "contrat",
    "start_date_correction": "contrat",
    "employer_change": "transfert",
    "employer_change_without_block": "transfert",
    "establishment_split": "transfert",
    "establishment_split_without_block": "transfert",
    "establishment_merge": "transfert",
    "establishment_merge_without_block": "transfert",
    "interim_user_change": "contrat",
    "forgotten_end": "fin",
    "forgotten_end_then_rehire": "fin",
    "cancelled_end": "fin",
    "silent_closure": "fermeture",
    "negative_correction": "heures",
    "late_declaration": "declaration",
    "very_late_declaration": "declaration",
    "cancel_and_replace": "declaration",
    "cancel_and_replace_cascade": "declaration",
    "duplicate_declaration": "declaration",
    "malformed_line": "ligne",
    "unknown_code": "ligne",
}


class UnknownAnomaly(ValueError):
    pass


_PURITY = """
CREATE TABLE purete_{name} AS
WITH p AS (
    SELECT {pred} AS pred, count(DISTINCT {truth}) AS n
    FROM items_contrats WHERE {truth} IS NOT NULL GROUP BY 1
)
SELECT i.{truth} AS truth, count(DISTINCT i.{pred}) = 1 AND max(p.n) = 1 AS pur
FROM items_contrats i JOIN p ON p.pred = i.{pred}
WHERE i.{truth} IS NOT NULL
GROUP BY i.{truth}
"""

_RESOLVED = """
WITH a AS (
    SELECT v.*, c.critere FROM anomalies_verite v JOIN criteres c ON c.type = v.type
    WHERE v.mois <= DATE '{horizon}'
),
-- a negatively corrected contract-month declares an overstated gross (the truth has the right
-- one): left out on both sides, so that the company-month compares what the files say
surdeclares AS (
    SELECT a.contrat_id, f.pred_contrat, a.mois
    FROM anomalies_verite a JOIN fins f ON f.truth_contrat = a.contrat_id
    WHERE a.type = 'negative_correction'
),
brut_vrai AS (
    SELECT left(t.siret, 9) AS siren, r.mois, sum(r.brut) AS brut, count(*) AS n
    FROM remunerations_verite r JOIN contrats_verite_unique t USING (contrat_id)
    WHERE NOT EXISTS (SELECT 1 FROM surdeclares x
                      WHERE x.contrat_id = r.contrat_id AND x.mois = r.mois)
    GROUP BY ALL
),
brut_base AS (
    SELECT e.siren, m.mois, sum(m.remuneration_brute) AS brut
    FROM contrats_mois m
    JOIN contrats k USING (contrat_id)
    JOIN etablissements e ON e.etablissement_id = k.etablissement_id
    WHERE NOT EXISTS (SELECT 1 FROM surdeclares x
                      WHERE x.pred_contrat = m.contrat_id AND x.mois = m.mois)
    GROUP BY ALL
),
heures_base AS (
    SELECT contrat_id, mois, sum(heures_standards_remunerees) AS h FROM activites GROUP BY ALL
),
fermetures AS (
    SELECT t.siret, bool_and(f.exact) AS exact
    FROM contrats_verite_unique t JOIN fins f ON f.truth_contrat = t.contrat_id
    WHERE t.motif_fin = '012'
    GROUP BY t.siret
),
resolution AS (
    SELECT a.anomaly_id, s.pur AS resolu FROM a
    LEFT JOIN purete_salaries s ON s.truth = concat(a.person_id, '|', a.siret)
    WHERE a.critere = 'salarie'
    UNION ALL
    SELECT a.anomaly_id, c.pur FROM a
    LEFT JOIN purete_contrats c ON c.truth = a.contrat_id
    WHERE a.critere = 'contrat'
    UNION ALL
    SELECT a.anomaly_id, f.exact FROM a
    LEFT JOIN fins f ON f.truth_contrat = a.contrat_id
    WHERE a.critere = 'fin'
    UNION ALL
    SELECT a.anomaly_id, f.exact AND coalesce(c.pur, false) FROM a
    JOIN contrats_verite_unique t ON t.contrat_id = a.contrat_id
    LEFT JOIN fins f ON f.truth_contrat = t.contrat_precedent_id
    LEFT JOIN purete_contrats c ON c.truth = t.contrat_id
    WHERE a.critere = 'transfert'
    UNION ALL
    SELECT a.anomaly_id, coalesce(x.exact, true) FROM a
    LEFT JOIN fermetures x ON x.siret = a.siret
    WHERE a.critere = 'fermeture'
    UNION ALL
    SELECT a.anomaly_id,
           abs(coalesce(q.h, 0) - coalesce(h.heures_remunerees, 0)) <= 0.05 FROM a
    LEFT JOIN fins f ON f.truth_contrat = a.contrat_id
    LEFT JOIN heures_verite h ON h.contrat_id = a.contrat_id AND h.mois = a.mois
    LEFT JOIN heures_base q ON q.contrat_id = f.pred_contrat AND q.mois = a.mois
    WHERE a.critere = 'heures'
    UNION ALL
    SELECT a.anomaly_id,
           abs(coalesce(b.brut, 0) - coalesce(v.brut, 0))
               <= 0.005 * coalesce(v.n, 1) + 1e-6 * abs(coalesce(v.brut, 0))
    FROM (SELECT *, coalesce(left(siret, 9), regexp_extract(file, '([0-9]{{9}})_multi_', 1))
                        AS siren
          FROM a WHERE critere = 'declaration') a
    LEFT JOIN brut_vrai v ON v.siren = a.siren AND v.mois = a.mois
    LEFT JOIN brut_base b ON b.siren = a.siren AND b.mois = a.mois
    UNION ALL
    SELECT a.anomaly_id, count(r.ligne) > 0 FROM a
    LEFT JOIN raw_rejections r ON r.ligne = a.line
        AND (r.fichier = a.file OR r.fichier LIKE concat('%/', a.file))
    WHERE a.critere = 'ligne'
    GROUP BY a.anomaly_id
)
SELECT a.type, any_value(a.critere) AS critere, count(*) AS evenements,
       count(*) FILTER (WHERE coalesce(r.resolu, false)) AS resolus
FROM a LEFT JOIN resolution r USING (anomaly_id)
GROUP BY a.type
ORDER BY a.type
"""


def anomaly_recall(
    con: duckdb.DuckDBPyConnection, anomalies: pl.DataFrame, horizon: object
) -> list[dict[str, object]]:
    """One row per anomaly kind: criterion, events up to ``horizon``, resolved, recall."""
    unknown = sorted(set(anomalies["type"].unique().to_list()) - set(CRITERIA))
    if unknown:
        raise UnknownAnomaly(f"type(s) d'anomalie sans critère d'évaluation : {', '.join(unknown)}")
    con.register(
        "criteres",
        pl.DataFrame({"type": list(CRITERIA), "critere": list(CRITERIA.values())}).to_arrow(),
    )
    con.execute(_PURITY.format(name="salaries", pred="pred", truth="truth"))
    con.execute(_PURITY.format(name="contrats", pred="pred_contrat", truth="truth_contrat"))
    rows = con.execute(_RESOLVED.format(horizon=horizon)).fetchall()
    return [
        {
            "type": kind,
            "critere": criterion,
            "evenements": events,
            "resolus": resolved,
            "rappel": resolved / events if events else 1.0,
        }
        for kind, criterion, events, resolved in rows
    ]
