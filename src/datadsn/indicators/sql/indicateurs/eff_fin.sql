-- Postes (contrats) en cours le dernier jour du mois, hors copies d'intérim chez l'utilisateur
-- (le salarié intérimaire est compté par l'entreprise de travail temporaire).
SELECT *, CAST(present_fin AS DOUBLE) AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND present_fin = 1
