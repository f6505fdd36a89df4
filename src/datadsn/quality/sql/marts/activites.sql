-- Monthly hours per contract and calendar month (interim copies read their agency contract's).
select contrat_id, mois,
       sum(heures_standards_remunerees) as heures_standards_remunerees,
       sum(heures_non_remunerees) as heures_non_remunerees,
       sum(heures_supp_remunerees) as heures_supp_remunerees,
       max(mois_declaration) as date_derniere_declaration
from activites_sources
group by contrat_id, mois
