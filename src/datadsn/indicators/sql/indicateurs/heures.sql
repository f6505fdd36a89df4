-- Heures rémunérées (hors heures supplémentaires) déclarées pour le mois.
SELECT *, heures AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND heures > 0
