-- The poste-mois with the month's declared attributes, hours and gross pay, the person's
-- attributes and the person and contract dimensions an indicator may group by (the
-- establishment's are in ind_dims_etablissement); unknown values become 'inconnu' so that NULL
-- only ever means a margin in the aggregated cells.
-- On DuckDB built one month at a time (ind_mois then holds that month), on Spark over the whole
-- window: only the declarations of the months in ind_mois are read.
WITH declares AS (
    SELECT * FROM contrats_mois WHERE mois IN (SELECT mois FROM ind_mois)
),
heures AS (
    SELECT * FROM activites WHERE mois IN (SELECT mois FROM ind_mois)
),
postes AS (
    SELECT
        p.mois,
        p.periode,
        p.poids_moyenne,
        p.dernier_mois,
        p.contrat_id,
        p.etablissement_id,
        p.salarie_id,
        coalesce(cm.nature_contrat, p.nature_contrat) AS nature_contrat,
        p.motif_recours,
        p.copie_interim,
        s.sexe,
        CAST(
            floor(
                ((year(p.mois) * 12 + month(p.mois)) - (s.annee_naissance * 12 + s.mois_naissance))
                / 12
            ) AS INTEGER
        ) AS age,
        p.present_fin,
        p.presence,
        p.embauche,
        p.fin,
        p.motif_rupture,
        CASE
            WHEN p.embauche_courte = 1 AND coalesce(cm.nature_contrat, p.nature_contrat) = '02'
                THEN 1
            ELSE 0
        END AS cdd_court,
        CAST(coalesce(a.heures_standards_remunerees, 0) AS DOUBLE) AS heures,
        CAST(coalesce(a.heures_supp_remunerees, 0) AS DOUBLE) AS heures_supp,
        CAST(coalesce(cm.remuneration_brute, 0) AS DOUBLE) AS brut,
        CAST(coalesce(a.heures_standards_remunerees, 0) AS DOUBLE) / 151.67 AS etp_heures,
        -- Quotité against the legal full time (151.67 h a month, 1 607 h a year, 218 days a
        -- year): the company's reference quotité (S21.G00.40.012) is not in the quality tables.
        CASE coalesce(cm.unite_mesure_quotite, p.unite_mesure_quotite)
            WHEN '10' THEN CAST(coalesce(cm.quotite_contrat, p.quotite_contrat) AS DOUBLE) / 151.67
            WHEN '21' THEN CAST(coalesce(cm.quotite_contrat, p.quotite_contrat) AS DOUBLE) / 1607
            WHEN '20' THEN CAST(coalesce(cm.quotite_contrat, p.quotite_contrat) AS DOUBLE) / 218
        END AS quotite_etp,
        mu.salarie_id IS NOT NULL AS salarie_multiple
    FROM ind_postes AS p
    LEFT JOIN declares AS cm
        ON cm.contrat_id = p.contrat_declare_id AND cm.mois = p.mois
    LEFT JOIN heures AS a
        ON a.contrat_id = p.contrat_declare_id AND a.mois = p.mois
    LEFT JOIN salaries AS s ON s.salarie_id = p.salarie_id
    LEFT JOIN ind_multiples AS mu ON mu.periode = p.periode AND mu.salarie_id = p.salarie_id
)
-- The raw motif, sex and age are left out: only their d_ versions are read.
SELECT
    p.mois, p.periode, p.poids_moyenne, p.dernier_mois, p.contrat_id, p.etablissement_id,
    p.salarie_id, p.nature_contrat, p.copie_interim, p.present_fin, p.presence, p.embauche, p.fin,
    p.cdd_court, p.heures, p.heures_supp, p.brut, p.etp_heures, p.quotite_etp, p.salarie_multiple,
    coalesce(p.nature_contrat, 'inconnu') AS d_nature_contrat,
    coalesce(p.motif_recours, 'sans objet') AS d_motif_recours,
    coalesce(p.motif_rupture, 'inconnu') AS d_motif_rupture,
    coalesce(p.sexe, 'inconnu') AS d_sexe,
    CASE
        WHEN p.age IS NULL THEN 'inconnu'
        WHEN p.age < 15 THEN '00-14'
        WHEN p.age >= 65 THEN '65+'
        WHEN p.age < 20 THEN '15-19'
        WHEN p.age < 25 THEN '20-24'
        WHEN p.age < 30 THEN '25-29'
        WHEN p.age < 35 THEN '30-34'
        WHEN p.age < 40 THEN '35-39'
        WHEN p.age < 45 THEN '40-44'
        WHEN p.age < 50 THEN '45-49'
        WHEN p.age < 55 THEN '50-54'
        WHEN p.age < 60 THEN '55-59'
        WHEN p.age < 65 THEN '60-64'
    END AS d_tranche_age,
    CASE
        WHEN p.age IS NULL THEN 'inconnu'
        WHEN p.age < 25 THEN 'moins de 25 ans'
        WHEN p.age < 50 THEN '25-49 ans'
        ELSE '50 ans ou plus'
    END AS d_tranche_age_large
FROM postes AS p
