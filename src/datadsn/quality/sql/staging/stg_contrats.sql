-- Declared contracts. numero is normalised (upper case, no spaces or separators) before it enters
-- any key, so "c 1" and "C1" are one contract and remuneration blocks find their contract. The
-- key repeats the very expression of numero, which DuckDB then computes once (0.057 to 0.050 s).
-- @kind table
-- @key fichier, contrat_ligne
select
    c.fichier,
    c.ligne as contrat_ligne,
    c.individu_ligne,
    d.decl_key,
    d.version_declaration,
    d.mois,
    d.siret,
    c.numero_contrat as numero_declare,
    upper(replace(replace(replace(replace(replace(trim(c.numero_contrat), ' ', ''), '-', ''), '/', ''), '.', ''), '_', '')) as numero,
    c.date_debut,
    concat(
        coalesce(upper(replace(replace(replace(replace(replace(trim(c.numero_contrat), ' ', ''), '-', ''), '/', ''), '.', ''), '_', '')), ''),
        '_', coalesce(cast(c.date_debut as varchar), '')
    ) as contrat_key,
    upper(trim(c.libelle_emploi)) as poste_key,
    c.nature_contrat,
    c.code_convention_collective,
    c.motif_recours,
    c.dispositif_politique_publique,
    c.lieu_travail,
    c.unite_mesure_quotite,
    c.quotite_contrat,
    c.modalite_temps_travail,
    c.statut_conventionnel,
    c.code_pcs_ese,
    c.date_fin_previsionnelle,
    case
        when length(c.siret_utilisateur) = 14 and try_cast(c.siret_utilisateur as bigint) is not null
            then c.siret_utilisateur
    end as etu_siret
from raw_contrat c
join stg_declarations d on d.fichier = c.fichier and d.declaration_ligne = c.declaration_ligne
