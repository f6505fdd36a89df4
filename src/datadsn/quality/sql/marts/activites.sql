-- Hours per contract and calendar month, for the months this run changes (int_activites_mois),
-- summed over every source declaration of those months (the ones carried over and the ones this
-- run rewrote), contract ids resolved through the new fusions. Other months: quality/carry.py.
-- @kind table
-- @key contrat_id, mois
-- @column contrat_id VARCHAR
-- @column mois DATE
-- @column heures_standards_remunerees DECIMAL(18,4)
-- @column heures_non_remunerees DECIMAL(18,4)
-- @column heures_supp_remunerees DECIMAL(18,4)
-- @column date_derniere_declaration DATE
with sources as (
    select contrat_id, mois, heures_standards_remunerees, heures_non_remunerees,
           heures_supp_remunerees, mois_declaration
    from prev_activites_sources_conservees
    union all
    select contrat_id, mois, heures_standards_remunerees, heures_non_remunerees,
           heures_supp_remunerees, mois_declaration
    from activites_sources
),
resolues as (
    select coalesce(f.id_survivant, s.contrat_id) as contrat_id, s.mois,
           s.heures_standards_remunerees, s.heures_non_remunerees, s.heures_supp_remunerees,
           s.mois_declaration
    from sources s
    left join fusions f on f.entite = 'contrat' and f.id_absorbe = s.contrat_id
    -- uncorrelated: DuckDB plans the correlated EXISTS as a delim join
    where s.mois in (select mois from int_activites_mois)
)
select contrat_id, mois,
       sum(heures_standards_remunerees) as heures_standards_remunerees,
       sum(heures_non_remunerees) as heures_non_remunerees,
       sum(heures_supp_remunerees) as heures_supp_remunerees,
       max(mois_declaration) as date_derniere_declaration
from resolues
group by contrat_id, mois
