-- Recours à l'intérim dans l'établissement utilisateur : ETP des missions recopiées chez
-- l'utilisateur / ETP des salariés propres de l'établissement (heures / 151,67).
SELECT
    *,
    CASE WHEN copie_interim THEN etp_heures ELSE 0 END AS numerateur,
    CASE WHEN copie_interim THEN 0 ELSE etp_heures END AS denominateur
FROM ind_base
WHERE heures > 0
