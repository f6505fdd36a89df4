-- Taux de rotation : demi-somme des embauches et des fins / effectif moyen de la période.
SELECT
    *,
    CAST(embauche + fin AS DOUBLE) / 2 AS numerateur,
    presence AS denominateur
FROM ind_base
WHERE NOT copie_interim
