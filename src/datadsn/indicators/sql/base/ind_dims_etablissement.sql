-- The establishment dimensions, one row per establishment. They are looked up by
-- etablissement_id once the poste-mois are summed per establishment, rather than copied onto
-- every poste-mois of ind_base: ten text columns on each of tens of millions of rows were most
-- of its memory. ``entreprise`` (the SIREN; the establishment itself when it is unknown) is the
-- unit the enterprise secrecy rules count.
SELECT
    e.etablissement_id,
    coalesce(e.siren, CAST(e.etablissement_id AS VARCHAR)) AS entreprise,
    coalesce(e.naf_section, 'inconnu') AS d_naf_section,
    coalesce(e.naf_a38, 'inconnu') AS d_naf_a38,
    coalesce(e.naf_a88, 'inconnu') AS d_naf_a88,
    coalesce(e.naf_sous_classe, 'inconnu') AS d_naf_sous_classe,
    coalesce(e.idcc, 'inconnu') AS d_idcc,
    coalesce(e.commune, 'inconnu') AS d_commune,
    coalesce(e.departement, 'inconnu') AS d_departement,
    coalesce(e.region, 'inconnu') AS d_region,
    coalesce(t.tranche_effectif, 'inconnu') AS d_tranche_effectif
FROM ind_etablissements AS e
LEFT JOIN ind_tailles AS t ON t.etablissement_id = e.etablissement_id
