-- Establishment size band: mean end-of-month headcount over the window (own contracts only,
-- interim copies are counted by the agency).
WITH moyennes AS (
    SELECT etablissement_id, CAST(sum(present_fin) AS DOUBLE) / max(n.nb) AS effectif_moyen
    FROM ind_postes
    CROSS JOIN (SELECT count(*) AS nb FROM ind_mois) AS n
    WHERE NOT copie_interim
    GROUP BY etablissement_id
)
SELECT
    e.etablissement_id,
    CASE
        WHEN coalesce(m.effectif_moyen, 0) < 1 THEN '0'
        WHEN m.effectif_moyen < 10 THEN '1-9'
        WHEN m.effectif_moyen < 50 THEN '10-49'
        WHEN m.effectif_moyen < 250 THEN '50-249'
        ELSE '250+'
    END AS tranche_effectif
FROM ind_etablissements AS e
LEFT JOIN moyennes AS m ON m.etablissement_id = e.etablissement_id
