-- Fins de contrat : date de fin effective dans le mois (déclarée ou déduite).
SELECT *, CAST(fin AS DOUBLE) AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND fin = 1
