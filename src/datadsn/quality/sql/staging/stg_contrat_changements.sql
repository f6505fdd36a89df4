-- Change blocks of contracts (S21.G00.41); numbers normalised like stg_contrats.
-- @kind table
-- @key fichier, changement_ligne
select
    c.fichier,
    c.ligne as changement_ligne,
    c.contrat_ligne,
    d.decl_key,
    d.version_declaration,
    c.date_modification,
    case
        when length(c.siret_ancien_etablissement) = 14 then c.siret_ancien_etablissement
    end as siret_ancien,
    upper(replace(replace(replace(replace(replace(trim(c.ancien_numero_contrat), ' ', ''), '-', ''), '/', ''), '.', ''), '_', '')) as ancien_numero,
    c.ancienne_date_debut
from raw_contrat_changement c
join stg_declarations d on d.fichier = c.fichier and d.declaration_ligne = c.declaration_ligne
