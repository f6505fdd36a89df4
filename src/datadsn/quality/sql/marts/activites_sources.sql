-- Hours per source declaration of the months this run rewrites (history: see quality/history.py;
-- files older than the 72-month retention are not carried over).
select * from int_activites_sources
