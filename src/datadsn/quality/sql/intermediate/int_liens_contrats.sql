-- Each declared contract of this run -> its contract row (before change-block merges).
-- @kind table
-- @key fichier, contrat_ligne
select d.fichier, d.contrat_ligne, d.individu_ligne, d.decl_key, d.version_declaration, d.mois,
       d.siret, d.salarie_key, d.numero, d.date_debut, k.salarie_id, k.contrat_id
from int_contrats_declares d
join int_contrats_charges k on k.salarie_id = d.salarie_id and k.contrat_key = d.contrat_key
