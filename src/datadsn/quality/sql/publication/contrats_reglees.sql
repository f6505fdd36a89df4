-- Contracts of the new state that are settled and move to the contract archive, with the month
-- file they go to (quality/archive.py): those whose end is final and whose user establishment,
-- if any, is known; a temporary-work copy follows its agency contract.
-- @kind table
-- @key contrat_id
with reglees as (
    select c.contrat_id, strftime(c.date_derniere_declaration, '%Y-%m') as mois_archive
    from contrats c
    join int_etablissements e on e.etablissement_id = c.etablissement_id
    where c.ett_contrat_id is null and (c.etu_siret is null or c.etu_id is not null)
        and (c.statut_fin = 2 or (c.statut_fin = 1
             and e.date_derniere_declaration >= c.date_derniere_declaration + interval 3 month))
)
select contrat_id, mois_archive from reglees
union all
select c.contrat_id, r.mois_archive
from contrats c join reglees r on r.contrat_id = c.ett_contrat_id
