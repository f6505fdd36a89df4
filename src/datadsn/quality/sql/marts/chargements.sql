-- One row per run: month, start, end, counts and code version (earlier runs of the month replaced).
-- Contracts: those of the run plus the archived ones carried over (quality/archive.py).
select c.*
from prev_chargements c
cross join run_params p
where c.mois <> p.mois
union all
select p.mois, p.debut, current_timestamp,
       (select count(*) from int_declarations_nouvelles),
       (select count(*) from entreprises),
       (select count(*) from etablissements),
       (select count(*) from salaries),
       (select count(*) from contrats) + (select count(*) from prev_contrats_archives)
           - (select count(*) from int_contrats_reactives),
       (select lignes from activites_publiees),
       (select count(*) from fusions),
       p.version
from run_params p
