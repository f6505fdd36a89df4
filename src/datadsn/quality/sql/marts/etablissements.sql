-- Establishments declared within the last 72 months.
-- @kind view
-- A view: the mart only copies or filters a table for the publication (copying 83,000
-- employees took 40 ms of the critical path at month 24).
-- @key etablissement_id
-- @previous view
-- @column etablissement_id VARCHAR
-- @column entreprise_id VARCHAR
-- @column siret VARCHAR
-- @column siren VARCHAR
-- @column nic VARCHAR
-- @column siege_social BOOLEAN
-- @column ouvert BOOLEAN
-- @column code_naf VARCHAR
-- @column code_postal VARCHAR
-- @column commune VARCHAR
-- @column nature_juridique VARCHAR
-- @column code_convention_collective VARCHAR
-- @column date_premiere_declaration DATE
-- @column date_derniere_declaration DATE
-- @column version_declaration VARCHAR
select e.*
from int_etablissements e
cross join run_params p
where e.date_derniere_declaration > p.limite_retention
