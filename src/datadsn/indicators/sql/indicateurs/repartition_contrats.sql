-- Répartition des postes en cours en fin de mois par nature de contrat (part de l'ensemble).
SELECT *, CAST(present_fin AS DOUBLE) AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND present_fin = 1
