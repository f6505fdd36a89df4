-- Each declared contract of this run -> its contract row (before change-block merges).
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
)
select c.fichier, c.contrat_ligne, c.individu_ligne, c.decl_key, c.version_declaration, c.mois,
       c.siret, l.salarie_key, c.numero, c.date_debut, k.salarie_id, k.contrat_id
from stg_contrats c
join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
left join salaries_remap r on r.ancien_id = l.salarie_id
join int_contrats_charges k
    on k.salarie_id = coalesce(r.cible_id, l.salarie_id) and k.contrat_key = c.contrat_key
