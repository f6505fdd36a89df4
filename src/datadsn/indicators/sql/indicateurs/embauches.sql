-- Embauches : contrats dont la date de début tombe dans le mois.
SELECT *, CAST(embauche AS DOUBLE) AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND embauche = 1
