-- Settled contracts to bring back from the archive because this run may change them: a contract
-- declared again under its key, every contract of an employee merged this run, every contract of
-- the employees a change block names (its own employee, and the namesake at the old SIRET a
-- transfer closes), and a temporary-work contract whose agency changed activity or whose user
-- establishment now declares the worker itself (its copy changes). Ids and archive months only:
-- archive.bring_back reads the whole rows from those months' files (int_contrats_reactives),
-- with the copies of these contracts, archived in the same month file. Every other archived
-- contract is carried over as it is, which keeps the run cost independent of the history (see
-- quality/archive.py).
-- @kind table
-- @key contrat_id
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
),
changements as (
    select d.salarie_id, d.salarie_key, ch.siret_ancien
    from stg_contrat_changements ch
    join int_contrats_declares d on d.fichier = ch.fichier and d.contrat_ligne = ch.contrat_ligne
),
salaries_vises as (
    select ancien_id as salarie_id from salaries_remap
    union
    select cible_id from salaries_remap
    union
    select salarie_id from changements
    union
    select s.salarie_id
    from changements ch
    join int_salaries_tous s on s.siret = ch.siret_ancien and s.salarie_key = ch.salarie_key
),
agences_modifiees as (
    select e.etablissement_id
    from int_etablissements e
    join prev_etablissements p on p.etablissement_id = e.etablissement_id
    where coalesce(e.code_naf, '') <> coalesce(p.code_naf, '')
),
interim as (
    select a.contrat_id, a.etablissement_id, a.etu_siret, s.salarie_key
    from int_contrats_archives a
    join int_salaries_tous s on s.salarie_id = a.salarie_id
    where a.ett_contrat_id is null and a.etu_siret is not null
),
-- two joins rather than an OR of EXISTS, which DuckDB planned as delim joins over every
-- archived temporary-work contract
interim_vises as (
    select i.contrat_id
    from interim i
    join agences_modifiees m on m.etablissement_id = i.etablissement_id
    union
    select i.contrat_id
    from interim i
    join int_liens_individus l on l.siret = i.etu_siret and l.salarie_key = i.salarie_key
),
-- ids first, on a few columns; whole rows are read once, for the contracts brought back only.
-- Uncorrelated IN rather than EXISTS where one column matches: a plain semi-join on the few ids,
-- where EXISTS over a union planned a delimiter join over every archived contract.
reels as (
    select a.contrat_id
    from int_contrats_archives a
    where exists (select 1 from int_contrats_declares d
                  where d.salarie_id = a.salarie_id and d.contrat_key = a.contrat_key)
        or a.salarie_id in (select salarie_id from salaries_vises)
        or a.contrat_id in (select contrat_id from interim_vises)
)
select a.contrat_id, a.mois_archive
from int_contrats_archives a
where a.contrat_id in (select contrat_id from reels)
