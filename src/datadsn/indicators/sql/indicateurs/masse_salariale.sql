-- Masse salariale brute : rémunération brute non plafonnée (type 001) du mois.
SELECT *, brut AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND brut <> 0
