-- Hours per source declaration, for the months this run rewrites (prev_activites_sources holds
-- only those months). A declaration key integrated again (replacement, duplicate send) replaces
-- its previous contribution instead of adding to it. Regularisations declared later keep their
-- own key and add to the month concerned. Stored ids are resolved through fusions when read.
-- @kind table
-- @key decl_key, contrat_id, mois
with anciennes as (
    select p.decl_key, p.contrat_id, p.mois, p.heures_standards_remunerees,
           p.heures_non_remunerees, p.heures_supp_remunerees, p.mois_declaration
    from prev_activites_sources p
    where not exists (select 1 from int_declarations_nouvelles n where n.decl_key = p.decl_key)
),
toutes as (
    select * from anciennes
    union all
    select decl_key, contrat_id, mois, heures_standards_remunerees, heures_non_remunerees,
           heures_supp_remunerees, mois_declaration
    from int_activites_nouvelles
)
select decl_key, contrat_id, mois,
       sum(heures_standards_remunerees) as heures_standards_remunerees,
       sum(heures_non_remunerees) as heures_non_remunerees,
       sum(heures_supp_remunerees) as heures_supp_remunerees,
       max(mois_declaration) as mois_declaration
from toutes
group by decl_key, contrat_id, mois
