-- Contract x declared month, for the contracts still in the state.
select m.*
from int_contrats_mois m
where exists (select 1 from int_contrats c cross join run_params p
              where c.contrat_id = m.contrat_id
              and c.date_derniere_declaration + interval 72 month > p.mois)
