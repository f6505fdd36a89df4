-- Part des CDD de moins d'un mois (durée prévue) parmi les embauches en CDD.
SELECT *, CAST(cdd_court AS DOUBLE) AS numerateur, CAST(1 AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND embauche = 1 AND nature_contrat = '02'
