-- One row per declaration being integrated, with its functional key and a sortable version.
-- decl_key: a monthly declaration (nature 01) is identified by SIRET x declared month x fraction,
-- so a replacement or a duplicate send lands on the same key; other natures are unique events.
-- version_declaration orders sends of the same key (latest constitution, rank, file) and is the
-- deterministic tie-break of every "latest declaration wins" rule.
-- A signalement (FCTU, arrêt...) may carry no declared month: the month of its constitution date
-- stands in, as it does for the raw partition it is filed under.
-- @kind table
-- @key fichier, declaration_ligne
with declarations as (
    select d.*,
           coalesce(d.mois_declare, cast(date_trunc('month', d.date_constitution) as date)) as mois
    from raw_declaration d
)
select
    d.fichier,
    d.ligne as declaration_ligne,
    e.siren,
    t.nic,
    concat(e.siren, t.nic) as siret,
    d.mois,
    coalesce(d.fraction, '11') as fraction,
    coalesce(d.nature_declaration, '01') as nature_declaration,
    coalesce(d.type_declaration, '01') as type_declaration,
    case
        when coalesce(d.nature_declaration, '01') = '01'
            then concat(e.siren, t.nic, '_', cast(d.mois as varchar), '_', coalesce(d.fraction, '11'))
        else concat(e.siren, t.nic, '_', cast(d.mois as varchar), '_', d.nature_declaration, '_', d.fichier, '_', cast(d.ligne as varchar))
    end as decl_key,
    concat(
        cast(d.mois as varchar), '|',
        coalesce(cast(d.date_constitution as varchar), '0000-00-00'), '|',
        lpad(cast(coalesce(d.numero_ordre, 0) as varchar), 12, '0'), '|',
        d.fichier, '|',
        lpad(cast(d.ligne as varchar), 10, '0')
    ) as version_declaration
from declarations d
join raw_entreprise e on e.fichier = d.fichier and e.declaration_ligne = d.ligne
join raw_etablissement t on t.fichier = d.fichier and t.declaration_ligne = d.ligne
where d.mois is not null
    -- one company and one establishment per declaration (see stg_declarations_multiples)
    and not exists (select 1 from stg_declarations_multiples m
                    where m.fichier = d.fichier and m.declaration_ligne = d.ligne)
