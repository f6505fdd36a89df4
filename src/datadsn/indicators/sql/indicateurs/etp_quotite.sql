-- Équivalents temps plein selon la quotité du contrat, au prorata des jours en cours.
SELECT *, presence * quotite_etp AS numerateur, CAST(NULL AS DOUBLE) AS denominateur
FROM ind_base
WHERE NOT copie_interim AND quotite_etp IS NOT NULL
