-- End-of-contract blocks (S21.G00.62).
-- @kind view
-- A view: its only reader, the contracts' ends (a view the contrats mart reads), reads it once.
-- @key fichier, fin_ligne
select
    f.fichier,
    f.ligne as fin_ligne,
    f.contrat_ligne,
    d.decl_key,
    d.version_declaration,
    f.date_fin,
    f.motif_rupture
from raw_contrat_fin f
join stg_declarations d on d.fichier = f.fichier and d.declaration_ligne = f.declaration_ligne
