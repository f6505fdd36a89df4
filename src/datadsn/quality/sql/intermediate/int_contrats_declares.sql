-- Each contract declared in this run (int_contrats_nouveaux) with its employee's id, re-pointed
-- to the survivor when this run merged that employee.
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
)
select c.*, coalesce(r.cible_id, l.salarie_id) as salarie_id
from int_contrats_nouveaux c
join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
left join salaries_remap r on r.ancien_id = l.salarie_id
