-- One row per establishment with its enterprise (SIREN) and the dimensions indicators group by.
-- The commune (code INSEE) comes from the most recent work place declared under the
-- establishment's own SIRET (S21.G00.85); without it the département is derived from the
-- postal code (Corsica: 200xx-201xx -> 2A, else 2B).
WITH lieux AS (
    SELECT
        siret,
        code_commune,
        ROW_NUMBER() OVER (
            PARTITION BY siret ORDER BY mois_declaration DESC, fichier DESC, ligne DESC
        ) AS rang
    FROM ind_lieux_travail
    WHERE code_commune IS NOT NULL
),
geo AS (
    SELECT
        e.etablissement_id,
        e.siret,
        e.code_naf,
        e.code_postal,
        e.code_convention_collective,
        l.code_commune,
        CASE
            WHEN l.code_commune IS NOT NULL AND left(l.code_commune, 2) = '97'
                THEN left(l.code_commune, 3)
            WHEN l.code_commune IS NOT NULL THEN left(l.code_commune, 2)
            WHEN e.code_postal LIKE '20%' AND e.code_postal < '20200' THEN '2A'
            WHEN e.code_postal LIKE '20%' THEN '2B'
            WHEN left(e.code_postal, 2) = '97' THEN left(e.code_postal, 3)
            ELSE left(e.code_postal, 2)
        END AS departement
    FROM etablissements AS e
    LEFT JOIN lieux AS l ON l.siret = e.siret AND l.rang = 1
)
SELECT
    g.etablissement_id,
    left(g.siret, 9) AS siren,
    g.code_naf AS naf_sous_classe,
    n.section AS naf_section,
    n.a38 AS naf_a38,
    left(g.code_naf, 2) AS naf_a88,
    g.code_convention_collective AS idcc,
    g.code_commune AS commune,
    g.departement,
    d.region
FROM geo AS g
LEFT JOIN ref_naf_divisions AS n ON n.division = left(g.code_naf, 2)
LEFT JOIN ref_departements AS d ON d.departement = g.departement
