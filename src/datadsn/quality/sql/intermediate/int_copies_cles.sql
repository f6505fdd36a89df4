-- Identity keys whose temporary workers' copies this run computes again (int_salaries_copies);
-- the copies of every other key are the previous snapshot's, as they are. A copy depends only on
-- the employee rows of its key (the worker's, and a real employee's at the user establishment)
-- and on the temporary-work contracts of the workers of that key, so a key is named when one of
-- them may have changed: any employee row of the run, before and after merges, an archived row
-- withdrawn or leaving the 72 months, and the worker of a contract of the run (as it was and as it
-- is), of an archived contract brought back, or of one the retention drops. Rebuilding only these
-- keys keeps the copies' cost with the month instead of the history (quality/salaries_archive.py).
-- @kind table
-- @key salarie_key
with ouvriers as (
    select salarie_id from int_contrats_interim
    union
    select salarie_id from prev_contrats where etu_siret is not null
    union
    select salarie_id from int_contrats_reactives where etu_siret is not null
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
cles as (
    select salarie_key from int_salaries
    union all
    select salarie_key from int_salaries_charges
    union all
    select a.salarie_key
    from prev_salaries_archives a
    where a.salarie_id in (select salarie_id from int_salaries_retirees)
    union all
    select a.salarie_key
    from prev_salaries_archives a
    cross join run_params p
    where a.date_derniere_declaration <= p.limite_retention
    union all
    select salarie_key from prev_salaries_sortants
    union all
    select l.salarie_key from lignes l where l.salarie_id in (select salarie_id from ouvriers)
)
select distinct coalesce(salarie_key, '') as salarie_key from cles
