-- Job labels declared within the last 72 months.
select t.*
from int_postes t
cross join run_params p
where t.date_derniere_declaration > p.limite_retention
