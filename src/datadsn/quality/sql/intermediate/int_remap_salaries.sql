-- Survivor of each merged group of employees: the member first declared (then the smallest id),
-- so ids stay stable downstream; every other member id maps to it. The surviving row takes the
-- attributes of the newest identity (int_fusions_salaries targets), see int_salaries.
-- @kind table
-- @key ancien_id
with membres as (
    select nouveau_id as groupe, ancien_id as membre, motif, date_modification
    from int_fusions_salaries
    union all
    select distinct nouveau_id, nouveau_id, cast(null as varchar), cast(null as date)
    from int_fusions_salaries
),
classes as (
    select m.groupe, m.membre, m.motif, m.date_modification,
           row_number() over (
               partition by m.groupe order by s.date_premiere_declaration, s.salarie_id
           ) as rang,
           min(s.date_premiere_declaration) over (partition by m.groupe) as premiere
    from membres m
    join int_salaries_connus s on s.salarie_id = m.membre
)
select m.groupe, m.membre as ancien_id, c.membre as cible_id, m.premiere,
       coalesce(m.motif, c.motif) as motif, coalesce(m.date_modification, c.date_modification) as date_modification
from classes m
join classes c on c.groupe = m.groupe and c.rang = 1
