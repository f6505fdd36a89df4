-- Each contract declared in this run with what int_contrats_nouveaux computed and its employee's
-- id, re-pointed to the survivor when this run merged that employee.
-- @kind table
-- @key fichier, contrat_ligne
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
)
select c.*, k.salarie_key, k.contrat_id_nouveau, k.etablissement_id_nouveau, k.poste_id_nouveau,
       k.fin_derniere_periode, coalesce(r.cible_id, l.salarie_id) as salarie_id
from stg_contrats c
join int_contrats_nouveaux k on k.fichier = c.fichier and k.contrat_ligne = c.contrat_ligne
join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
left join salaries_remap r on r.ancien_id = l.salarie_id
