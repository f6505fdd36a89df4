-- The archived contracts (quality/archive.py), loaded once at the start of the run, beside the
-- staging: int_contrats_reactives and int_interim_archives read them five times, on the critical
-- path, and each scan of the archive files opened and decoded them again. Only the columns that
-- find the contracts to bring back are loaded (a third of the time of whole rows), and the month
-- naming each one's file: the few rows brought back are read whole from their files only
-- (int_contrats_a_reprendre, then archive.bring_back).
-- @kind table
-- @key contrat_id
select contrat_id, salarie_id, etablissement_id, contrat_key, nature_contrat, etu_siret, etu_id,
       ett_contrat_id, strftime(date_derniere_declaration, '%Y-%m') as mois_archive
from prev_contrats_archives
-- the temporary workers' copies (a third of the archive) only ever come back with their agency
-- contract, from its month file (archive.bring_back): never looked up here
where ett_contrat_id is null
