-- Job labels declared within the last 72 months.
-- @kind view
-- A view: the mart only copies or filters a table for the publication (copying 83,000
-- employees took 40 ms of the critical path at month 24).
-- @key poste_id
-- @previous view
-- @column poste_id VARCHAR
-- @column poste_key VARCHAR
-- @column date_derniere_declaration DATE
select t.*
from int_postes t
cross join run_params p
where t.date_derniere_declaration > p.limite_retention
