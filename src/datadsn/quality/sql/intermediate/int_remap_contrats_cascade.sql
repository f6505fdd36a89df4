-- Contracts absorbed because an employee merge gave two of them the same key: stored ones, and
-- the id a contract key declared in this run under a merged employee would have taken (its hash)
-- when that key folds into another contract. The latter was never issued, but a declared key
-- must always lead to its contract through fusions (a key declared under a new identity with the
-- old number, whose number then changes, was otherwise left pointing nowhere).
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
union
select d.contrat_id_nouveau, c.contrat_id, 'fusion_salarie', r.date_modification
from int_contrats_declares d
join int_liens_individus l on l.fichier = d.fichier and l.individu_ligne = d.individu_ligne
join salaries_remap r on r.ancien_id = l.salarie_id
join int_contrats_charges c on c.salarie_id = d.salarie_id and c.contrat_key = d.contrat_key
where d.contrat_id_nouveau <> c.contrat_id
    and not exists (select 1 from int_contrats_stock p where p.contrat_id = d.contrat_id_nouveau)
