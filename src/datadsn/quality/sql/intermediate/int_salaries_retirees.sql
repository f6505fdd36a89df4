-- Archived rows this run withdraws (quality/salaries_archive.py): the employees declared again,
-- and the archived members of a merge (the survivor's row is rewritten, the others absorbed).
-- @kind table
-- @key salarie_id, date_derniere_declaration
select salarie_id, date_derniere_declaration from int_salaries_rappeles
union
select a.salarie_id, a.date_derniere_declaration
from prev_salaries_archives a
where a.salarie_id in (select ancien_id from int_remap_salaries)
