-- The archived contracts (quality/archive.py), loaded once at the start of the run, beside the
-- staging: int_contrats_reactives and int_interim_archives read them five times, on the critical
-- path, and each scan of the archive files opened and decoded them again.
select * from prev_contrats_archives
