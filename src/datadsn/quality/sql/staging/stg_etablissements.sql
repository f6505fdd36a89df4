-- Establishment and company attributes as declared, one row per declaration.
-- @kind table
-- @key fichier, declaration_ligne
select
    d.decl_key,
    d.version_declaration,
    d.mois,
    d.fichier,
    d.declaration_ligne,
    d.siren,
    d.nic,
    d.siret,
    e.code_apen,
    e.nic_siege,
    t.code_apet as code_naf,
    t.code_postal,
    t.localite as commune,
    t.nature_juridique,
    t.code_convention_collective_principale as code_convention_collective
from stg_declarations d
join raw_entreprise e on e.fichier = d.fichier and e.declaration_ligne = d.declaration_ligne
join raw_etablissement t on t.fichier = d.fichier and t.declaration_ligne = d.declaration_ligne
