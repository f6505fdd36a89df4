-- Each contract declared in this run (effective declarations only) with its employee's key and
-- id, re-pointed to the survivor when this run merged that employee.
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
)
select c.*, l.salarie_key, coalesce(r.cible_id, l.salarie_id) as salarie_id
from stg_contrats c
join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
left join salaries_remap r on r.ancien_id = l.salarie_id
