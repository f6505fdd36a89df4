-- Hours declared in this run (int_heures_lignes) on their final contract ids.
-- @kind table
select h.decl_key, h.mois_declaration, l.contrat_id, h.debut, h.fin, h.heures_standards,
       h.heures_non_remunerees, h.heures_supp
from int_heures_lignes h
join int_liens_contrats_finaux l on l.fichier = h.fichier and l.contrat_ligne = h.contrat_ligne
