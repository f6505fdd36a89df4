-- Stored contracts absorbed because an employee merge gave two of them the same key.
-- @kind table
-- @key ancien_id
with salaries_remap as (
    select ancien_id, cible_id, date_modification
    from int_remap_salaries
    where ancien_id <> cible_id
)
select p.contrat_id as ancien_id, c.contrat_id as cible_id, 'fusion_salarie' as motif,
       r.date_modification
from int_contrats_stock p
left join salaries_remap r on r.ancien_id = p.salarie_id
join int_contrats_charges c
    on c.salarie_id = coalesce(r.cible_id, p.salarie_id) and c.contrat_key = p.contrat_key
where p.ett_contrat_id is null and p.contrat_id <> c.contrat_id
