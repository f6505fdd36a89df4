-- One row per contract and month of the window it overlaps (the "poste-mois"), with what the
-- contract alone says about that month. A view: ind_tailles, ind_multiples and ind_base read it,
-- and only ind_base pays for the monthly declarations.
-- ind_mois holds the months being built (the window, or one of its months while ind_base is
-- built month by month): mois (first day), fin_mois (last day), jours (days in month), the
-- period the month belongs to, 1 / months of that period in the window (poids_moyenne) and
-- whether it is the period's last month in the window (dernier_mois).
SELECT
    m.mois,
    m.periode,
    m.poids_moyenne,
    m.dernier_mois,
    c.contrat_id,
    -- An interim copy in the user establishment carries no declaration of its own: its month
    -- attributes and hours are those of the agency's contract (ett_contrat_id).
    coalesce(c.ett_contrat_id, c.contrat_id) AS contrat_declare_id,
    c.etablissement_id,
    c.salarie_id,
    c.nature_contrat,
    c.motif_recours,
    c.ett_contrat_id IS NOT NULL AS copie_interim,
    c.unite_mesure_quotite,
    c.quotite_contrat,
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
            AND c.date_fin_previsionnelle < c.date_debut + INTERVAL 1 MONTH
            THEN 1
        ELSE 0
    END AS embauche_courte
FROM contrats AS c
INNER JOIN ind_mois AS m
    ON coalesce(c.date_debut_effective, c.date_debut) <= m.fin_mois
    AND (c.date_fin_effective IS NULL OR c.date_fin_effective >= m.mois)
