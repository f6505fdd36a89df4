-- Stored contracts this run works on: the working set and the archived ones brought back.
-- @kind table
-- @key contrat_id
select * from prev_contrats
union all
select * from int_contrats_reactives
