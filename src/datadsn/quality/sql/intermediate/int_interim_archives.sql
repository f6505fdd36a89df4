-- Temporary-work contracts kept in the archive (same rule as int_contrats_interim), for the
-- workers' copies in their user establishments (marts/salaries): archived with their contract
-- copies, they still count there.
-- @kind table
-- @key contrat_id
select a.contrat_id, a.salarie_id, a.etu_id, a.etu_siret
from int_contrats_archives a
join int_etablissements e on e.etablissement_id = a.etablissement_id
-- the contracts brought back left out by a join (a NOT EXISTS is planned as a delim join)
left join int_contrats_reactives r on r.contrat_id = a.contrat_id
where a.ett_contrat_id is null and a.etu_id is not null
    and a.nature_contrat = '03' and e.code_naf = '7820Z' and r.contrat_id is null
