-- Each declared individual of this run -> its employee row (before merges).
-- @kind table
-- @key fichier, individu_ligne
select i.fichier, i.individu_ligne, i.siret, i.salarie_key, i.nir, i.nom_famille, i.prenoms,
       i.date_naissance, s.salarie_id
from stg_individus i
join int_declarations_nouvelles n on n.version_declaration = i.version_declaration
join int_salaries_charges s on s.siret = i.siret and s.salarie_key = i.salarie_key
