-- Pyramide des âges : postes en cours le dernier jour du mois par tranche d'âge et sexe.
SELECT *, CAST(present_fin AS DOUBLE) AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND present_fin = 1
