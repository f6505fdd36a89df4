-- Companies declared within the last 72 months.
-- @kind view
-- A view: the mart only copies or filters a table for the publication (copying 83,000
-- employees took 40 ms of the critical path at month 24).
-- @key entreprise_id
-- @previous view
-- @column entreprise_id VARCHAR
-- @column siren VARCHAR
-- @column code_apen VARCHAR
-- @column nic_siege VARCHAR
-- @column date_premiere_declaration DATE
-- @column date_derniere_declaration DATE
-- @column version_declaration VARCHAR
select e.*
from int_entreprises e
cross join run_params p
where e.date_derniere_declaration > p.limite_retention
