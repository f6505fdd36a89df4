-- Archived employees declared again in this run under their establishment and key: they rejoin
-- the run's employees (int_salaries_charges) and their archived row is withdrawn (see
-- quality/salaries_archive.py).
-- @kind table
-- @key salarie_id
select a.*
from prev_salaries_archives a
where exists (select 1 from stg_individus i
              join int_declarations_nouvelles n on n.version_declaration = i.version_declaration
              where i.siret = a.siret and i.salarie_key = a.salarie_key)
