-- Calendar months whose hours this run changes (within the 72-month retention): those of the
-- hours it brings and those of the hours its declarations replace.
-- @kind table
-- @key mois
with mois as (
    select mois from int_activites_nouvelles
    union
    select p.mois
    from prev_activites_sources p
    where exists (select 1 from int_declarations_nouvelles n where n.decl_key = p.decl_key)
)
select m.mois
from mois m
cross join run_params p
where m.mois > p.limite_retention
