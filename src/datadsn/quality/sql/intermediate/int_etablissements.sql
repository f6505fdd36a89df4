-- Establishments: latest declaration wins; siège when the company's siège NIC is this NIC;
-- open unless its last declaration is 3 months or more before the integrated month.
-- @kind table
-- @key etablissement_id
with candidats as (
    select etablissement_id, entreprise_id, siret, siren, nic, siege_social, code_naf, code_postal,
           commune, nature_juridique, code_convention_collective, date_premiere_declaration,
           date_derniere_declaration, version_declaration
    from prev_etablissements
    union all
    select substr(md5(concat('etablissement|', e.siret)), 1, 16),
           substr(md5(concat('entreprise|', e.siren)), 1, 16),
           e.siret, e.siren, e.nic, coalesce(e.nic_siege = e.nic, false), e.code_naf, e.code_postal,
           e.commune, e.nature_juridique, e.code_convention_collective, e.mois, e.mois,
           e.version_declaration
    from stg_etablissements e
    join int_declarations_nouvelles n on n.version_declaration = e.version_declaration
),
classes as (
    select
        *,
        row_number() over (partition by siret order by version_declaration desc) as rang,
        min(date_premiere_declaration) over (partition by siret) as premiere,
        max(date_derniere_declaration) over (partition by siret) as derniere
    from candidats
)
select c.etablissement_id, c.entreprise_id, c.siret, c.siren, c.nic, c.siege_social,
       not (p.mois >= c.derniere + interval 3 month) as ouvert,
       c.code_naf, c.code_postal, c.commune, c.nature_juridique, c.code_convention_collective,
       c.premiere as date_premiere_declaration, c.derniere as date_derniere_declaration,
       c.version_declaration
from classes c
cross join run_params p
where c.rang = 1
