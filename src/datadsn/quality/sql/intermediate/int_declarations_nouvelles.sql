-- Declarations of this run that are effective for their key: only they feed entities and hours.
-- A cancelling declaration (type 04) is effective but brings no content, so its key empties.
-- @kind table
-- @key decl_key
select d.decl_key, d.fichier, d.declaration_ligne, d.siret, d.mois, d.type_declaration, d.version_declaration
from int_declarations d
join stg_declarations s on s.fichier = d.fichier and s.declaration_ligne = d.declaration_ligne
where d.effective
