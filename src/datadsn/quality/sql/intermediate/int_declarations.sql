-- Declarations of the months this run rewrites (prev_declarations holds only those; a key
-- includes its month) and, per functional key, the effective one: the latest version. A
-- replacement, a duplicate send or a late file thus supersedes what the key held before instead
-- of adding to it. Kept 72 months.
-- @kind table
-- @key decl_key, fichier, declaration_ligne
with toutes as (
    select decl_key, fichier, declaration_ligne, siret, mois, fraction, type_declaration,
           version_declaration, mois_integration
    from prev_declarations
    union all
    select s.decl_key, s.fichier, s.declaration_ligne, s.siret, s.mois, s.fraction, s.type_declaration,
           s.version_declaration, p.mois as mois_integration
    from stg_declarations s
    cross join run_params p
)
select
    t.*,
    row_number() over (partition by t.decl_key order by t.version_declaration desc) = 1 as effective
from toutes t
cross join run_params p
where t.mois > p.limite_retention
