-- Every contract id that disappeared this run -> its surviving id (cascade then change blocks).
-- @kind table
-- @key ancien_id
with blocs as (
    select ancien_id, cible_id, motif, date_modification
    from int_remap_contrats
    where ancien_id <> cible_id
)
select c.ancien_id, coalesce(b.cible_id, c.cible_id) as cible_id, c.motif, c.date_modification
from int_remap_contrats_cascade c
left join blocs b on b.ancien_id = c.cible_id
union all
select ancien_id, cible_id, motif, date_modification
from blocs
