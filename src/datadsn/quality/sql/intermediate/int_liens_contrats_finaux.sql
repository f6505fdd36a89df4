-- Each declared contract of this run -> its final contract id.
-- @kind table
-- @key fichier, contrat_ligne
select l.fichier, l.contrat_ligne, l.individu_ligne, l.decl_key, l.version_declaration, l.mois,
       l.siret, l.salarie_key, l.numero, l.date_debut, l.salarie_id,
       coalesce(r.cible_id, l.contrat_id) as contrat_id
from int_liens_contrats l
left join int_remap_contrats r on r.ancien_id = l.contrat_id
