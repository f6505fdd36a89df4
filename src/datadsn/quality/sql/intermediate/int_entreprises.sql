-- Companies: latest declaration wins for attributes; first/last declared months are min/max,
-- so integration order does not matter.
-- @kind table
-- @key entreprise_id
with candidats as (
    select entreprise_id, siren, code_apen, nic_siege, date_premiere_declaration,
           date_derniere_declaration, version_declaration
    from prev_entreprises
    union all
    select substr(md5(concat('entreprise|', e.siren)), 1, 16), e.siren, e.code_apen, e.nic_siege,
           e.mois, e.mois, e.version_declaration
    from stg_etablissements e
    join int_declarations_nouvelles n on n.version_declaration = e.version_declaration
),
classes as (
    select
        *,
        row_number() over (partition by siren order by version_declaration desc) as rang,
        min(date_premiere_declaration) over (partition by siren) as premiere,
        max(date_derniere_declaration) over (partition by siren) as derniere
    from candidats
)
select entreprise_id, siren, code_apen, nic_siege, premiere as date_premiere_declaration,
       derniere as date_derniere_declaration, version_declaration
from classes
where rang = 1
