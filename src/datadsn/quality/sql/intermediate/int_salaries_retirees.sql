-- Archived rows this run withdraws (quality/salaries_archive.py): the employees declared again,
-- and the archived members of a merge (the survivor's row is rewritten, the others absorbed).
select salarie_id, mois_archive from int_salaries_rappeles
union
select a.salarie_id, a.mois_archive
from prev_salaries_archives a
where a.salarie_id in (select ancien_id from int_remap_salaries)
