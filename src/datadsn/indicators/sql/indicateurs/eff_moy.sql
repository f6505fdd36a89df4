-- Effectif moyen : chaque poste compte au prorata des jours du mois où il est en cours.
SELECT *, presence AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim
