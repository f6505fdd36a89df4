-- Pending declarations with more than one company or establishment block. The norm has one of
-- each per declaration and the ingestion rejects the others (ETABLISSEMENT_MULTIPLE), but a raw
-- store ingested before it did may hold some: stg_declarations leaves them out (with two, every
-- row of the declaration would be joined to each of them again at every step) and the run
-- counts them.
-- @kind table
-- @key fichier, declaration_ligne
select fichier, declaration_ligne
from raw_entreprise
group by fichier, declaration_ligne
having count(*) > 1
union
select fichier, declaration_ligne
from raw_etablissement
group by fichier, declaration_ligne
having count(*) > 1
