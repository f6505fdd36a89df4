-- Change blocks of individuals (S21.G00.31): old identifying values, pseudonymised like the new.
-- @kind table
-- @key fichier, changement_ligne
select
    c.fichier,
    c.ligne as changement_ligne,
    c.individu_ligne,
    d.decl_key,
    d.version_declaration,
    c.date_modification,
    c.ancien_nir_pseudo as ancien_nir,
    c.ancien_nom_famille_pseudo as ancien_nom_famille,
    c.anciens_prenoms_pseudo as anciens_prenoms,
    c.ancienne_date_naissance_pseudo as ancienne_date_naissance
from raw_individu_changement c
join stg_declarations d on d.fichier = c.fichier and d.declaration_ligne = c.declaration_ligne
