-- Employees declared within the last 72 months (the others leave the state). Apart from the
-- temporary workers' copies (int_salaries_copies), so that it is ready long before them.
-- @kind view
-- A view: a filter read a few times, which a table would only copy.
-- @key salarie_id
select s.*
from int_salaries_tous s
cross join run_params p
where s.date_derniere_declaration > p.limite_retention
