-- Hours per source declaration, for the contracts still in the state.
select a.*
from int_activites_sources a
where exists (select 1 from int_contrats c cross join run_params p
              where c.contrat_id = a.contrat_id
              and c.date_derniere_declaration + interval 72 month > p.mois)
