-- Salaire brut mensuel moyen par tête : masse salariale / effectif moyen (postes au prorata).
SELECT *, brut AS numerateur, presence AS denominateur
FROM ind_base
WHERE NOT copie_interim
