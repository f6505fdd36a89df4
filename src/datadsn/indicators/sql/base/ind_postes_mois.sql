-- One row per contract and month of the window it overlaps (the "poste-mois"), with the
-- person's attributes and the month's declared hours and gross pay.
-- ind_mois holds the window: mois (first day), fin_mois (last day), jours (days in month),
-- the period the month belongs to, 1 / months of that period in the window (poids_moyenne) and
-- whether it is the period's last month in the window (dernier_mois).
SELECT
    m.mois,
    m.periode,
    m.poids_moyenne,
    m.dernier_mois,
    c.contrat_id,
    c.etablissement_id,
    c.salarie_id,
    coalesce(cm.nature_contrat, c.nature_contrat) AS nature_contrat,
    c.motif_recours,
    c.ett_contrat_id IS NOT NULL AS copie_interim,
    s.sexe,
    CAST(
        floor(
            ((year(m.mois) * 12 + month(m.mois)) - (s.annee_naissance * 12 + s.mois_naissance))
            / 12
        ) AS INTEGER
    ) AS age,
    CASE
        WHEN c.date_fin_effective IS NULL OR c.date_fin_effective >= m.fin_mois THEN 1 ELSE 0
    END AS present_fin,
    CAST(
        date_diff(
            'day',
            greatest(coalesce(c.date_debut_effective, c.date_debut), m.mois),
            least(coalesce(c.date_fin_effective, m.fin_mois), m.fin_mois)
        ) + 1 AS DOUBLE
    ) / m.jours AS presence,
    CASE WHEN coalesce(c.date_debut_effective, c.date_debut) >= m.mois THEN 1 ELSE 0 END AS embauche,
    CASE WHEN c.date_fin_effective <= m.fin_mois THEN 1 ELSE 0 END AS fin,
    CASE WHEN c.date_fin_effective <= m.fin_mois THEN c.motif_rupture END AS motif_rupture,
    CASE
        WHEN coalesce(c.date_debut_effective, c.date_debut) >= m.mois
            AND coalesce(cm.nature_contrat, c.nature_contrat) = '02'
            AND c.date_fin_previsionnelle < c.date_debut + INTERVAL 1 MONTH
            THEN 1
        ELSE 0
    END AS cdd_court,
    CAST(coalesce(a.heures_standards_remunerees, 0) AS DOUBLE) AS heures,
    CAST(coalesce(a.heures_supp_remunerees, 0) AS DOUBLE) AS heures_supp,
    CAST(coalesce(cm.remuneration_brute, 0) AS DOUBLE) AS brut,
    CAST(coalesce(a.heures_standards_remunerees, 0) AS DOUBLE) / 151.67 AS etp_heures,
    -- Quotité against the legal full time (151.67 h a month, 1 607 h a year, 218 days a year):
    -- the company's reference quotité (S21.G00.40.012) is not in the quality tables.
    CASE coalesce(cm.unite_mesure_quotite, c.unite_mesure_quotite)
        WHEN '10' THEN CAST(coalesce(cm.quotite_contrat, c.quotite_contrat) AS DOUBLE) / 151.67
        WHEN '21' THEN CAST(coalesce(cm.quotite_contrat, c.quotite_contrat) AS DOUBLE) / 1607
        WHEN '20' THEN CAST(coalesce(cm.quotite_contrat, c.quotite_contrat) AS DOUBLE) / 218
    END AS quotite_etp
FROM contrats AS c
INNER JOIN ind_mois AS m
    ON coalesce(c.date_debut_effective, c.date_debut) <= m.fin_mois
    AND (c.date_fin_effective IS NULL OR c.date_fin_effective >= m.mois)
-- An interim copy in the user establishment carries no declaration of its own: its month
-- attributes and hours are those of the agency's contract (ett_contrat_id).
LEFT JOIN contrats_mois AS cm
    ON cm.contrat_id = coalesce(c.ett_contrat_id, c.contrat_id) AND cm.mois = m.mois
LEFT JOIN activites AS a
    ON a.contrat_id = coalesce(c.ett_contrat_id, c.contrat_id) AND a.mois = m.mois
LEFT JOIN salaries AS s ON s.salarie_id = c.salarie_id
