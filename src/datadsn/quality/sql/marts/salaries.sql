-- Employees declared within the last 72 months (int_salaries_reels), plus the copies of
-- temporary workers in their user establishments (int_salaries_copies).
-- @kind view
-- A view: the mart only copies or filters a table for the publication (copying 83,000
-- employees took 40 ms of the critical path at month 24).
-- @key salarie_id
-- @previous view
-- Read by one step (int_salaries_charges), which scans the previous file in place: loading its
-- 98,000 employees as a table cost a month-6 command of issue 23's input 3.7% of its CPU (median
-- ratio 0.963 over 6 alternated rounds).
-- @column salarie_id VARCHAR
-- @column etablissement_id VARCHAR
-- @column siret VARCHAR
-- @column salarie_key VARCHAR
-- @column nir VARCHAR
-- @column nom_famille VARCHAR
-- @column nom_usage VARCHAR
-- @column prenoms VARCHAR
-- @column date_naissance VARCHAR
-- @column sexe VARCHAR
-- @column annee_naissance SMALLINT
-- @column mois_naissance TINYINT
-- @column matricule VARCHAR
-- @column allocated_from_ett BOOLEAN
-- @column date_premiere_declaration DATE
-- @column date_derniere_declaration DATE
-- @column version_declaration VARCHAR
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, matricule,
       cast(null as boolean) as allocated_from_ett,
       date_premiere_declaration, date_derniere_declaration, version_declaration
from int_salaries_reels
union all
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance,
       -- the agency's payroll number, meaningless in the user establishment
       cast(null as varchar), true, date_premiere_declaration,
       date_derniere_declaration, version_declaration
from int_salaries_copies
