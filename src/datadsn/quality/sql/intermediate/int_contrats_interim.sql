-- Temporary-work contracts to re-allocate: nature 03 in an agency (NAF 7820Z) whose user
-- establishment (SIRET utilisateur) is known. Rebuilt from the whole state every month, so a user
-- establishment declared after the contract is still found. Read from int_contrats_fusionnes:
-- int_contrats only adds end statuses to its rows (same ids, employees, establishments, natures,
-- and those of a known establishment, which the join below requires too), so the workers' copies
-- (int_salaries_copies) need not wait for the ends.
-- @kind table
-- @key contrat_id
select c.contrat_id, c.salarie_id, u.etablissement_id as etu_id, u.siret as etu_siret,
       e.siret as ett_siret
from int_contrats_fusionnes c
join int_etablissements e on e.etablissement_id = c.etablissement_id
join int_etablissements u on u.siret = c.etu_siret
where c.nature_contrat = '03' and e.code_naf = '7820Z'
