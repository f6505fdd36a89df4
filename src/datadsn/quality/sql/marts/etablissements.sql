-- Establishments declared within the last 72 months.
select e.*
from int_etablissements e
cross join run_params p
where e.date_derniere_declaration > p.limite_retention
