-- Every id that disappeared in a merge, with its current survivor: earlier rows are re-pointed
-- when their survivor is absorbed in turn, so one lookup always gives a live id.
-- @kind table
-- @key entite, id_absorbe
-- @previous view
-- @column entite VARCHAR
-- @column id_absorbe VARCHAR
-- @column id_survivant VARCHAR
-- @column motif VARCHAR
-- @column date_modification DATE
-- @column mois DATE
with nouvelles as (
    select 'salarie' as entite, r.ancien_id as id_absorbe, r.cible_id as id_survivant, r.motif,
           r.date_modification, p.mois
    from int_remap_salaries r
    cross join run_params p
    where r.ancien_id <> r.cible_id
    union all
    select 'contrat', r.ancien_id, r.cible_id, r.motif, r.date_modification, p.mois
    from int_remap_contrats_tous r
    cross join run_params p
),
anciennes as (
    select f.entite, f.id_absorbe,
           coalesce(s.cible_id, c.cible_id, f.id_survivant) as id_survivant, f.motif,
           f.date_modification, f.mois
    from prev_fusions f
    left join int_remap_salaries s
        on f.entite = 'salarie' and s.ancien_id = f.id_survivant and s.ancien_id <> s.cible_id
    left join int_remap_contrats_tous c on f.entite = 'contrat' and c.ancien_id = f.id_survivant
),
toutes as (
    select * from anciennes
    union all
    select * from nouvelles
),
classes as (
    select *, row_number() over (
        partition by entite, id_absorbe order by mois desc, id_survivant
    ) as rang
    from toutes
)
select entite, id_absorbe, id_survivant, motif, date_modification, mois
from classes
where rang = 1
