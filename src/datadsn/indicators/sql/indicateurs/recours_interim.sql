-- Recours à l'intérim dans l'établissement utilisateur : ETP des missions recopiées chez
-- l'utilisateur (heures / 151,67) / effectif moyen de ses salariés propres (postes au prorata).
SELECT
    *,
    CASE WHEN copie_interim THEN etp_heures ELSE 0 END AS numerateur,
    CASE WHEN copie_interim THEN 0 ELSE presence END AS denominateur
FROM ind_base
