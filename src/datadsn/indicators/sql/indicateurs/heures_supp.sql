-- Heures supplémentaires ou complémentaires rémunérées.
SELECT *, heures_supp AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND heures_supp > 0
