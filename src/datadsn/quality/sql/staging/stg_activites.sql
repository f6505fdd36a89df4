-- Activity sub-blocks (S21.G00.53) of remunerations.
-- @kind table
-- @key fichier, activite_ligne
select
    a.fichier,
    a.ligne as activite_ligne,
    a.remuneration_ligne,
    a.type_activite,
    a.mesure,
    a.unite_mesure
from raw_activite a
join stg_declarations d on d.fichier = a.fichier and d.declaration_ligne = a.declaration_ligne
