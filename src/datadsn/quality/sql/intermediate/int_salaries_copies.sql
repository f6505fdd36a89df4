-- Copies of temporary workers in their user establishments (allocated_from_ett), unless that
-- establishment declares them itself: one row per worker and user establishment, however many
-- missions, the worker's latest declaration winning (then the smallest worker id). Only the
-- (user establishment, key) pairs with several candidates are ranked: a window over every
-- candidate cost more than the rest of the step.
-- @kind table
-- @key salarie_id
with candidats as (
    select substr(md5(concat('salarie|', i.etu_siret, '|', s.salarie_key)), 1, 16) as salarie_id,
           i.etu_id as etablissement_id, i.etu_siret as siret, s.salarie_key, s.nir, s.nom_famille,
           s.nom_usage, s.prenoms, s.date_naissance, s.sexe, s.annee_naissance, s.mois_naissance,
           s.date_premiere_declaration, s.date_derniere_declaration, s.version_declaration,
           s.salarie_id as source_id
    from (select salarie_id, etu_id, etu_siret from int_contrats_interim
          union
          select salarie_id, etu_id, etu_siret from int_interim_archives) i
    join int_salaries_reels s on s.salarie_id = i.salarie_id
    -- an anti-join spelt as a join: DuckDB plans a NOT EXISTS here as a delim join (the step
    -- took 1.7 times as long that way at month 6 of issue 23's input)
    left join int_salaries_reels r
        on r.etablissement_id = i.etu_id and r.salarie_key = s.salarie_key
    where r.salarie_id is null
),
doubles as (
    select etablissement_id, salarie_key
    from candidats
    group by etablissement_id, salarie_key
    having count(*) > 1
),
classes as (
    select *,
           row_number() over (
               partition by etablissement_id, salarie_key
               order by version_declaration desc, source_id
           ) as rang
    from candidats c
    where exists (select 1 from doubles d
                  where d.etablissement_id = c.etablissement_id and d.salarie_key = c.salarie_key)
),
retenues as (
    select * from classes where rang = 1
    union all
    select *, 1 from candidats c
    where not exists (select 1 from doubles d
                      where d.etablissement_id = c.etablissement_id
                          and d.salarie_key = c.salarie_key)
)
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, date_premiere_declaration,
       date_derniere_declaration, version_declaration
from retenues
