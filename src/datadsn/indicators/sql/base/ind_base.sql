-- The poste-mois with every dimension an indicator may group by; unknown values become
-- 'inconnu' so that NULL only ever means a margin in the aggregated cells.
SELECT
    p.*,
    coalesce(p.nature_contrat, 'inconnu') AS d_nature_contrat,
    coalesce(p.motif_recours, 'sans objet') AS d_motif_recours,
    coalesce(p.motif_rupture, 'inconnu') AS d_motif_rupture,
    coalesce(p.sexe, 'inconnu') AS d_sexe,
    CASE
        WHEN p.age IS NULL THEN 'inconnu'
        WHEN p.age < 15 THEN '00-14'
        WHEN p.age >= 65 THEN '65+'
        ELSE concat(
            lpad(CAST(CAST(floor(p.age / 5) * 5 AS INTEGER) AS VARCHAR), 2, '0'),
            '-',
            lpad(CAST(CAST(floor(p.age / 5) * 5 + 4 AS INTEGER) AS VARCHAR), 2, '0')
        )
    END AS d_tranche_age,
    CASE
        WHEN p.age IS NULL THEN 'inconnu'
        WHEN p.age < 25 THEN 'moins de 25 ans'
        WHEN p.age < 50 THEN '25-49 ans'
        ELSE '50 ans ou plus'
    END AS d_tranche_age_large,
    coalesce(e.naf_section, 'inconnu') AS d_naf_section,
    coalesce(e.naf_a38, 'inconnu') AS d_naf_a38,
    coalesce(e.naf_a88, 'inconnu') AS d_naf_a88,
    coalesce(e.naf_sous_classe, 'inconnu') AS d_naf_sous_classe,
    coalesce(e.idcc, 'inconnu') AS d_idcc,
    coalesce(e.commune, 'inconnu') AS d_commune,
    coalesce(e.departement, 'inconnu') AS d_departement,
    coalesce(e.region, 'inconnu') AS d_region,
    coalesce(t.tranche_effectif, 'inconnu') AS d_tranche_effectif
FROM ind_postes_mois AS p
LEFT JOIN ind_etablissements AS e ON e.etablissement_id = p.etablissement_id
LEFT JOIN ind_tailles AS t ON t.etablissement_id = p.etablissement_id
