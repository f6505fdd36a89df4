-- Remuneration blocks (S21.G00.51) with the normalised contract number they refer to.
-- @kind table
-- @key fichier, remuneration_ligne
select
    r.fichier,
    r.ligne as remuneration_ligne,
    r.individu_ligne,
    d.decl_key,
    d.mois,
    d.nature_declaration,
    d.version_declaration,
    r.date_debut_periode_paie as debut,
    r.date_fin_periode_paie as fin,
    upper(replace(replace(replace(replace(replace(trim(r.numero_contrat), ' ', ''), '-', ''), '/', ''), '.', ''), '_', '')) as numero,
    r.type_remuneration,
    r.nombre_heures,
    r.montant
from raw_remuneration r
join stg_declarations d on d.fichier = r.fichier and d.declaration_ligne = r.declaration_ligne
