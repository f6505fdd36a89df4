-- One row per run: month, start, end, counts and code version (earlier runs of the month replaced).
-- Start and end come from the run's clock (run_params, run_fin), not the engine's.
-- Contracts: those of the run plus the archived ones carried over (quality/archive.py); hours:
-- the run's months plus the months carried over (activites_reprises, quality/carry.py).
-- The counts as rows then one pivot: nine scalar subqueries took DuckDB's optimizer 20 ms.
-- @kind table
-- @key mois
-- @previous view
-- @column mois DATE
-- @column debut TIMESTAMP
-- @column fin TIMESTAMP
-- @column declarations BIGINT
-- @column entreprises BIGINT
-- @column etablissements BIGINT
-- @column salaries BIGINT
-- @column contrats BIGINT
-- @column activites BIGINT
-- @column fusions BIGINT
-- @column version VARCHAR
with comptes as (
    select 'declarations' as quoi, count(*) as n from int_declarations_nouvelles
    union all
    select 'entreprises', count(*) from entreprises
    union all
    select 'etablissements', count(*) from etablissements
    union all
    select 'salaries', count(*) from salaries
    union all
    select 'contrats', (select count(*) from contrats) + (select count(*) from prev_contrats_archives)
        - (select count(*) from int_contrats_reactives)
    union all
    select 'activites', (select count(*) from activites) + (select lignes from activites_reprises)
    union all
    select 'fusions', count(*) from fusions
)
select c.*
from prev_chargements c
cross join run_params p
where c.mois <> p.mois
union all
select p.mois, p.debut, f.fin,
       max(case when k.quoi = 'declarations' then k.n end),
       max(case when k.quoi = 'entreprises' then k.n end),
       max(case when k.quoi = 'etablissements' then k.n end),
       max(case when k.quoi = 'salaries' then k.n end),
       max(case when k.quoi = 'contrats' then k.n end),
       max(case when k.quoi = 'activites' then k.n end),
       max(case when k.quoi = 'fusions' then k.n end),
       p.version
from run_params p
cross join run_fin f
cross join comptes k
group by p.mois, p.debut, f.fin, p.version
