-- Stored contracts this run works on: the working set and the archived ones brought back. A view:
-- its two readers scan the loaded working set in place, where a table copied it whole first.
-- @kind view
-- @key contrat_id
select * from prev_contrats
union all
select * from int_contrats_reactives
