-- Merge edges between employees (old id -> new id), before graph cleaning.
-- (a) inferred: a row without NIR and a row with NIR of the same establishment share names and
--     birth date, the NIR row being as recent -> the person obtained a NIR.
-- (b) declared: change blocks, fragments of one individual combined up to three (fields set in
--     at most one fragment, same old NIR), then the old identity is looked up by NIR key and by
--     name key. The name key lets a name change of an employee WITHOUT NIR merge (the reference
--     only ever matched on NIR).
-- (c) inferred without a block, from a key first declared in this run and a key of the same
--     establishment no longer declared since before it: the same names and birth date under
--     another NIR declared only after the old one stopped everywhere (a corrected or definitive
--     NIR), or a contract (number and start date) still open under the old key (NIR-less name
--     change, several fields at once).
-- (d) inferred from the payroll's employee number (30.019), which most employers keep when they
--     hire a person again: a key first declared in this run with the number of a key of the same
--     establishment no longer declared since before it (a whole new identity, no block).
-- @kind table
with fragments as (
    select c.fichier, c.individu_ligne, c.changement_ligne, c.date_modification, c.ancien_nir,
           c.ancien_nom_famille, c.anciens_prenoms, c.ancienne_date_naissance
    from stg_individu_changements c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
),
paires as (
    select a.fichier, a.individu_ligne, b.changement_ligne as derniere_ligne,
           greatest(a.date_modification, b.date_modification) as date_modification,
           coalesce(a.ancien_nir, b.ancien_nir) as ancien_nir,
           coalesce(a.ancien_nom_famille, b.ancien_nom_famille) as ancien_nom_famille,
           coalesce(a.anciens_prenoms, b.anciens_prenoms) as anciens_prenoms,
           coalesce(a.ancienne_date_naissance, b.ancienne_date_naissance) as ancienne_date_naissance
    from fragments a
    join fragments b
        on b.fichier = a.fichier and b.individu_ligne = a.individu_ligne
        and b.changement_ligne > a.changement_ligne
        and coalesce(a.ancien_nir, '') = coalesce(b.ancien_nir, '')
        and (a.ancien_nom_famille is null or b.ancien_nom_famille is null)
        and (a.anciens_prenoms is null or b.anciens_prenoms is null)
        and (a.ancienne_date_naissance is null or b.ancienne_date_naissance is null)
),
triples as (
    select p.fichier, p.individu_ligne,
           greatest(p.date_modification, c.date_modification) as date_modification,
           p.ancien_nir,
           coalesce(p.ancien_nom_famille, c.ancien_nom_famille) as ancien_nom_famille,
           coalesce(p.anciens_prenoms, c.anciens_prenoms) as anciens_prenoms,
           coalesce(p.ancienne_date_naissance, c.ancienne_date_naissance) as ancienne_date_naissance
    from paires p
    join fragments c
        on c.fichier = p.fichier and c.individu_ligne = p.individu_ligne
        and c.changement_ligne > p.derniere_ligne
        and coalesce(p.ancien_nir, '') = coalesce(c.ancien_nir, '')
        and (p.ancien_nom_famille is null or c.ancien_nom_famille is null)
        and (p.anciens_prenoms is null or c.anciens_prenoms is null)
        and (p.ancienne_date_naissance is null or c.ancienne_date_naissance is null)
),
combinaisons as (
    select fichier, individu_ligne, date_modification, ancien_nir, ancien_nom_famille,
           anciens_prenoms, ancienne_date_naissance
    from fragments
    union all
    select fichier, individu_ligne, date_modification, ancien_nir, ancien_nom_famille,
           anciens_prenoms, ancienne_date_naissance
    from paires
    union all
    select fichier, individu_ligne, date_modification, ancien_nir, ancien_nom_famille,
           anciens_prenoms, ancienne_date_naissance
    from triples
),
anciennes_cles as (
    select l.salarie_id as nouveau_id, l.siret, c.date_modification,
           coalesce(c.ancien_nir, l.nir) as cle_nir,
           concat('~', coalesce(c.ancien_nom_famille, l.nom_famille, ''), '|',
                  coalesce(c.anciens_prenoms, l.prenoms, ''), '|',
                  coalesce(c.ancienne_date_naissance, l.date_naissance, '')) as cle_noms
    from combinaisons c
    join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
),
declarees as (
    select o.salarie_id as ancien_id, k.nouveau_id, k.date_modification
    from anciennes_cles k
    join int_salaries_connus o on o.siret = k.siret and o.salarie_key = k.cle_nir
    union all
    select o.salarie_id, k.nouveau_id, k.date_modification
    from anciennes_cles k
    join int_salaries_connus o on o.siret = k.siret and o.salarie_key = k.cle_noms
),
nir_corrige_candidats as (
    select o.salarie_id as ancien_id, n.salarie_id as nouveau_id,
           n.date_premiere_declaration as date_modification, o.nir as ancien_nir,
           n.nir as nouveau_nir
    from (select * from int_salaries_charges where touche and nir is not null) n
    join (select * from int_salaries_connus where nir is not null and not touche) o
        on o.siret = n.siret and o.nir <> n.nir and o.nom_famille = n.nom_famille
        and o.prenoms = n.prenoms and o.date_naissance = n.date_naissance
        and o.date_derniere_declaration < n.date_premiere_declaration
),
-- a NIR an earlier nir_corrige merge took over was first declared on that merge's date: the
-- merged row (and a temporary worker's copies of it) keep the old NIR's first declaration
nir_repris as (
    select s.nir, max(f.date_modification) as depuis
    from prev_fusions f
    join int_salaries_connus s on s.salarie_id = f.id_survivant
    where f.entite = 'salarie' and f.motif = 'nir_corrige'
    group by s.nir
),
-- first and last declaration of each candidate NIR in every establishment
portees_nir as (
    select s.nir,
           max(r.depuis) as depuis,
           min(s.date_premiere_declaration) as premiere_ligne,
           max(s.date_derniere_declaration) as derniere
    from int_salaries_connus s
    left join nir_repris r on r.nir = s.nir
    where s.nir in (select ancien_nir from nir_corrige_candidats
                    union select nouveau_nir from nir_corrige_candidats)
    group by s.nir
),
-- a correction switches NIR everywhere at once: the new NIR first declared (in any
-- establishment) after the old one's last declaration. Namesakes born the same day, one leaving
-- an establishment and the other arriving, overlap somewhere and are not merged (found at 300
-- employers x 24 months).
nir_corrige as (
    select c.ancien_id, c.nouveau_id, c.date_modification
    from nir_corrige_candidats c
    join portees_nir a on a.nir = c.ancien_nir
    join portees_nir b on b.nir = c.nouveau_nir
    where a.derniere < case when b.depuis > b.premiere_ligne then b.depuis
                            else b.premiere_ligne end
),
contrat_repris as (
    select distinct o.salarie_id as ancien_id, n.salarie_id as nouveau_id,
           n.date_premiere_declaration as date_modification
    from (select * from int_salaries_charges where touche) n
    join (
        select distinct c.siret, i.salarie_key, c.contrat_key
        from stg_contrats c
        join int_declarations_nouvelles d on d.version_declaration = c.version_declaration
        join stg_individus i on i.fichier = c.fichier and i.individu_ligne = c.individu_ligne
    ) k on k.siret = n.siret and k.salarie_key = n.salarie_key
    join prev_contrats p
        on p.contrat_key = k.contrat_key and p.statut_fin is null and p.ett_contrat_id is null
    join (select * from int_salaries_connus where not touche) o
        on o.salarie_id = p.salarie_id and o.siret = n.siret
        and o.date_derniere_declaration < n.date_premiere_declaration
        and (n.nir is not null or o.nir is null)  -- a NIR gone missing: see matricule_repris
    -- same names and birth date: the NIR rules (nir_obtenu, nir_corrige) say it
    where not (coalesce(o.nom_famille, '') = coalesce(n.nom_famille, '')
               and coalesce(o.prenoms, '') = coalesce(n.prenoms, '')
               and coalesce(o.date_naissance, '') = coalesce(n.date_naissance, ''))
),
-- (d) sharing at least one identifying field: a number given again to someone else shares none
matricule_repris as (
    select o.salarie_id as ancien_id, n.salarie_id as nouveau_id,
           n.date_premiere_declaration as date_modification
    from (select * from int_salaries_charges where touche and matricule is not null) n
    join (select * from int_salaries_connus where matricule is not null and not touche) o
        on o.siret = n.siret and o.matricule = n.matricule
        and o.date_derniere_declaration < n.date_premiere_declaration
        -- a NIR missing after one was declared is missing for a while: merged into the NIR-less
        -- key, the NIR's key would come back under the id the merge kept (the hash of that key),
        -- a second row with that id. Left apart, nir_obtenu merges the two when the NIR is back.
        and (n.nir is not null or o.nir is null)
    where (o.nir = n.nir or o.nom_famille = n.nom_famille or o.prenoms = n.prenoms
           or o.date_naissance = n.date_naissance)
        -- same names and birth date: the NIR rules (nir_obtenu, nir_corrige) say it
        and not (coalesce(o.nom_famille, '') = coalesce(n.nom_famille, '')
                 and coalesce(o.prenoms, '') = coalesce(n.prenoms, '')
                 and coalesce(o.date_naissance, '') = coalesce(n.date_naissance, ''))
)
select distinct ancien_id, nouveau_id, date_modification, 'bloc_changement_individu' as motif
from declarees
where ancien_id <> nouveau_id
union all
-- an inferred merge needs a row declared in this run (touche), and only the run's rows
-- (int_salaries_charges) can be: each side is matched against the touched rows of the other,
-- so the archived employees are scanned once, never joined with each other
select o.salarie_id, n.salarie_id, n.date_derniere_declaration, 'nir_obtenu'
from (select * from int_salaries_charges where touche and nir is null) o
join int_salaries_connus n
    on n.siret = o.siret and n.nir is not null and n.nom_famille = o.nom_famille
    and n.prenoms = o.prenoms and n.date_naissance = o.date_naissance
    and n.date_derniere_declaration >= o.date_derniere_declaration
union all
select o.salarie_id, n.salarie_id, n.date_derniere_declaration, 'nir_obtenu'
from (select * from int_salaries_connus where nir is null and not touche) o
join (select * from int_salaries_charges where touche and nir is not null) n
    on n.siret = o.siret and n.nom_famille = o.nom_famille
    and n.prenoms = o.prenoms and n.date_naissance = o.date_naissance
    and n.date_derniere_declaration >= o.date_derniere_declaration
union all
-- (c) only where no change block already names the new identity
select ancien_id, nouveau_id, date_modification, 'nir_corrige'
from nir_corrige c
where not exists (select 1 from declarees x where x.nouveau_id = c.nouveau_id)
union all
select ancien_id, nouveau_id, date_modification, 'contrat_repris'
from contrat_repris c
where not exists (select 1 from declarees x where x.nouveau_id = c.nouveau_id)
    and not exists (select 1 from nir_corrige x where x.nouveau_id = c.nouveau_id)
union all
select ancien_id, nouveau_id, date_modification, 'matricule_repris'
from matricule_repris c
where not exists (select 1 from declarees x where x.nouveau_id = c.nouveau_id)
    and not exists (select 1 from nir_corrige x where x.nouveau_id = c.nouveau_id)
    and not exists (select 1 from contrat_repris x where x.nouveau_id = c.nouveau_id)
