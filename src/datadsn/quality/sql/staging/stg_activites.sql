-- Activity sub-blocks (S21.G00.53) of remunerations.
-- @kind view
-- A view: its only reader, the hours declared per line, reads it once; a table cost the run a
-- copy of every activity line (0.016 CPU-s a month at 2,000 employers).
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
