-- Merge edges between contracts of one employee from change blocks (old number and/or old start
-- date), fragments combined up to three like individuals. Old numbers are normalised, so a
-- case or spacing variant still finds its contract. A change whose old key matches nothing is a
-- no-op; a SIRET-only change never merges (transfers close the old contract instead).
-- Inferred without a block: a contract key first declared in this run and an open contract of
-- the same employee and start date no longer declared since before it, one on each side: the
-- number changed (numbering changed by the payroll software without a 41.014).
-- @kind table
with fragments as (
    select c.fichier, c.contrat_ligne, c.changement_ligne, c.date_modification, c.siret_ancien,
           c.ancien_numero, c.ancienne_date_debut
    from stg_contrat_changements c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
),
paires as (
    select a.fichier, a.contrat_ligne, b.changement_ligne as derniere_ligne,
           greatest(a.date_modification, b.date_modification) as date_modification,
           coalesce(a.siret_ancien, b.siret_ancien) as siret_ancien,
           coalesce(a.ancien_numero, b.ancien_numero) as ancien_numero,
           coalesce(a.ancienne_date_debut, b.ancienne_date_debut) as ancienne_date_debut
    from fragments a
    join fragments b
        on b.fichier = a.fichier and b.contrat_ligne = a.contrat_ligne
        and b.changement_ligne > a.changement_ligne
        and (a.siret_ancien is null or b.siret_ancien is null)
        and (a.ancien_numero is null or b.ancien_numero is null)
        and (a.ancienne_date_debut is null or b.ancienne_date_debut is null)
),
triples as (
    select p.fichier, p.contrat_ligne,
           greatest(p.date_modification, c.date_modification) as date_modification,
           coalesce(p.siret_ancien, c.siret_ancien) as siret_ancien,
           coalesce(p.ancien_numero, c.ancien_numero) as ancien_numero,
           coalesce(p.ancienne_date_debut, c.ancienne_date_debut) as ancienne_date_debut
    from paires p
    join fragments c
        on c.fichier = p.fichier and c.contrat_ligne = p.contrat_ligne
        and c.changement_ligne > p.derniere_ligne
        and (p.siret_ancien is null or c.siret_ancien is null)
        and (p.ancien_numero is null or c.ancien_numero is null)
        and (p.ancienne_date_debut is null or c.ancienne_date_debut is null)
),
deduits as (
    select o.contrat_id as ancien_id, n.contrat_id as nouveau_id,
           n.date_premiere_declaration as date_modification,
           count(*) over (partition by n.contrat_id) as pour_nouveau,
           count(*) over (partition by o.contrat_id) as pour_ancien
    from int_contrats_charges n
    join int_contrats_charges o
        on o.salarie_id = n.salarie_id and o.date_debut = n.date_debut
        and o.contrat_key <> n.contrat_key and o.statut_fin is null and not o.touche
        and o.date_derniere_declaration < n.date_premiere_declaration
    where n.touche
),
combinaisons as (
    select fichier, contrat_ligne, date_modification, siret_ancien, ancien_numero, ancienne_date_debut
    from fragments
    union all
    select fichier, contrat_ligne, date_modification, siret_ancien, ancien_numero, ancienne_date_debut
    from paires
    union all
    select fichier, contrat_ligne, date_modification, siret_ancien, ancien_numero, ancienne_date_debut
    from triples
),
declarees as (
    select distinct o.contrat_id as ancien_id, l.contrat_id as nouveau_id, c.date_modification,
           'bloc_changement_contrat' as motif
    from combinaisons c
    join int_liens_contrats l on l.fichier = c.fichier and l.contrat_ligne = c.contrat_ligne
    join int_contrats_charges o
        on o.salarie_id = l.salarie_id
        and o.contrat_key = concat(coalesce(c.ancien_numero, l.numero, ''), '_',
                                   coalesce(cast(coalesce(c.ancienne_date_debut, l.date_debut) as varchar), ''))
    where (c.ancien_numero is not null or c.ancienne_date_debut is not null)
        and (c.siret_ancien is null or c.siret_ancien = l.siret)
        and o.contrat_id <> l.contrat_id
)
select ancien_id, nouveau_id, date_modification, motif from declarees
union all
-- an inferred edge only where no change block already links either contract
select ancien_id, nouveau_id, date_modification, 'numero_change'
from deduits d
where pour_nouveau = 1 and pour_ancien = 1
    and not exists (select 1 from declarees x
                    where x.nouveau_id = d.nouveau_id or x.ancien_id = d.ancien_id)
