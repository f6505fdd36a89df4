-- Équivalents temps plein : heures rémunérées (hors heures supplémentaires) / 151,67.
SELECT *, etp_heures AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND heures > 0
