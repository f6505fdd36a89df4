-- Identity keys whose temporary workers' copies this run computes again (int_salaries_copies);
-- the copies of every other key are the previous snapshot's, as they are. A copy depends only on
-- the employee rows of its key (the worker's, and a real employee's at the user establishment)
-- and on the temporary-work contracts of the workers of that key, so a key is named when one of
-- them may have changed: a key declared in this run or ranked again (int_salaries_charges), a
-- member of a merge, an archived row withdrawn or leaving the 72 months; and the worker, as it was
-- and as it is, of a temporary-work contract added, changed or removed (the run's against the
-- previous snapshot's, with the archived ones brought back) or of one the retention drops.
-- Rebuilding only these keys keeps the copies' cost with the month's changes instead of the
-- history (quality/salaries_archive.py).
-- @kind table
-- @key salarie_key
with
-- the temporary-work contracts of the previous state that this run recomputes, by the rule of
-- int_contrats_interim: its working contracts and the archived ones brought back
avant as (
    select c.contrat_id, c.salarie_id, c.etu_id, c.etu_siret
    from prev_contrats c
    join prev_etablissements e on e.etablissement_id = c.etablissement_id
    where c.ett_contrat_id is null and c.etu_id is not null
        and c.nature_contrat = '03' and e.code_naf = '7820Z'
    union all
    select r.contrat_id, r.salarie_id, r.etu_id, r.etu_siret
    from int_contrats_reactives r
    join prev_etablissements e on e.etablissement_id = r.etablissement_id
    where r.ett_contrat_id is null and r.etu_id is not null
        and r.nature_contrat = '03' and e.code_naf = '7820Z'
),
apres as (
    select contrat_id, salarie_id, etu_id, etu_siret from int_contrats_interim
),
ouvriers as (
    select salarie_id from (select * from avant except select * from apres) d
    union
    select salarie_id from (select * from apres except select * from avant) d
    union
    select salarie_id from prev_contrats_sortants
),
-- every row an id may name, as it was or as it is
lignes as (
    select salarie_id, salarie_key from int_salaries
    union all
    select salarie_id, salarie_key from int_salaries_charges
    union all
    select salarie_id, salarie_key from prev_salaries_archives
    union all
    select salarie_id, salarie_key from prev_salaries_sortants
),
fusionnes as (
    select ancien_id as salarie_id from int_remap_salaries
    union
    select cible_id from int_remap_salaries
    union
    select ancien_id from int_fusions_salaries
    union
    select nouveau_id from int_fusions_salaries
    union
    select salarie_id from int_salaries_retirees
    union
    select salarie_id from ouvriers
),
-- the stored rows int_salaries_charges ranks again although no declaration names them
doubles as (
    select salarie_key
    from (select siret, salarie_key from prev_salaries
          union all
          select siret, salarie_key from int_salaries_rappeles) s
    group by siret, salarie_key
    having count(*) > 1
),
cles as (
    select salarie_key from int_salaries_charges where touche
    union all
    select salarie_key from doubles
    union all
    select a.salarie_key
    from prev_salaries_archives a
    cross join run_params p
    where a.date_derniere_declaration <= p.limite_retention
    union all
    select salarie_key from prev_salaries_sortants
    union all
    select l.salarie_key from lignes l where l.salarie_id in (select salarie_id from fusionnes)
)
select distinct coalesce(salarie_key, '') as salarie_key from cles
