-- Contract ends and effective starts, in the reference order:
-- 1. declared end (fin block; motif 099 cancels it and re-opens the contract);
-- 2./3. inferred end (statut 1; date = fin prévisionnelle in the last declared month, else the
--       end of the last paid period when it stops before that month's end, else the month's end)
--       when the establishment has declared 3 months past the contract's
--       last declaration or is closed, re-opened (NULL) otherwise; a declared end (2) stays;
-- 4. employer change: the contract at the old SIRET ends the day before the change (statut 2),
--    and the new contract's effective start is the change date.
-- @kind view
-- A view: only the contrats mart reads it, so its rows are materialised once, there.
-- @key contrat_id
with fins as (
    select l.contrat_id, f.date_fin, f.motif_rupture,
           row_number() over (
               partition by l.contrat_id order by f.version_declaration desc, f.fin_ligne desc
           ) as rang
    from stg_contrat_fins f
    join int_declarations_nouvelles n on n.version_declaration = f.version_declaration
    join int_liens_contrats_finaux l on l.fichier = f.fichier and l.contrat_ligne = f.contrat_ligne
),
transferts as (
    select l.contrat_id as nouveau_id, l.salarie_key, l.numero, l.date_debut, c.siret_ancien,
           c.ancien_numero, c.ancienne_date_debut, c.date_modification
    from stg_contrat_changements c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
    join int_liens_contrats_finaux l on l.fichier = c.fichier and l.contrat_ligne = c.contrat_ligne
    where c.siret_ancien is not null and c.siret_ancien <> l.siret and c.date_modification is not null
),
fermetures as (
    select o.contrat_id, max(t.date_modification) as date_modification
    from transferts t
    join int_salaries_tous s on s.siret = t.siret_ancien and s.salarie_key = t.salarie_key
    join int_contrats_fusionnes o
        on o.salarie_id = s.salarie_id
        and o.contrat_key = concat(coalesce(t.ancien_numero, t.numero, ''), '_',
                                   coalesce(cast(coalesce(t.ancienne_date_debut, t.date_debut) as varchar), ''))
    group by o.contrat_id
),
debuts as (
    select nouveau_id, max(date_modification) as date_modification
    from transferts
    where date_debut is null or date_modification <> date_debut
    group by nouveau_id
),
declares as (
    select c.*,
           case
               when f.contrat_id is null then c.statut_fin
               when f.motif_rupture = '099' then cast(null as tinyint)
               else cast(2 as tinyint)
           end as statut_declare,
           case
               when f.contrat_id is null then c.date_fin_effective
               when f.motif_rupture = '099' then cast(null as date)
               else f.date_fin
           end as date_fin_declare,
           case
               when f.contrat_id is null then c.date_fin_declaree
               when f.motif_rupture = '099' then cast(null as date)
               else f.date_fin
           end as date_fin_bloc,
           coalesce(f.motif_rupture, c.motif_rupture) as motif
    from int_contrats_fusionnes c
    left join fins f on f.contrat_id = c.contrat_id and f.rang = 1
),
inferes as (
    select d.*,
           d.statut_declare = 2 as ferme_declare,
           e.date_derniere_declaration >= d.date_derniere_declaration + interval 3 month
               or not e.ouvert as silencieux
    from declares d
    join int_etablissements e on e.etablissement_id = d.etablissement_id
)
select i.contrat_id, i.etablissement_id, i.salarie_id, i.contrat_key, i.numero, i.date_debut,
       coalesce(b.date_modification, i.date_debut_effective) as date_debut_effective,
       i.poste_id, i.nature_contrat, i.code_convention_collective, i.motif_recours,
       i.dispositif_politique_publique, i.lieu_travail, i.unite_mesure_quotite, i.quotite_contrat,
       i.date_fin_previsionnelle,
       case
           when coalesce(i.ferme_declare, false) then i.date_fin_declare
           when t.contrat_id is not null then cast(t.date_modification - interval 1 day as date)
           when i.silencieux then
               case
                   -- deliberate: the last paid day, when the last pay period stops early (also
                   -- before a planned end: a fixed-term contract broken off without an end block)
                   when i.date_fin_periode_paie >= i.date_debut
                       and i.date_fin_periode_paie < last_day(i.date_derniere_declaration)
                       and i.date_fin_periode_paie >= i.date_derniere_declaration - interval 1 month
                       and (i.date_fin_previsionnelle is null
                            or i.date_fin_periode_paie < i.date_fin_previsionnelle)
                       then i.date_fin_periode_paie
                   when i.date_fin_previsionnelle >= i.date_derniere_declaration
                       and i.date_fin_previsionnelle <= last_day(i.date_derniere_declaration)
                       then i.date_fin_previsionnelle
                   when i.date_fin_periode_paie >= i.date_debut
                       and i.date_fin_periode_paie < last_day(i.date_derniere_declaration)
                       and i.date_fin_periode_paie >= i.date_derniere_declaration - interval 1 month
                       then i.date_fin_periode_paie
                   else last_day(i.date_derniere_declaration)
               end
       end as date_fin_effective,
       case
           when coalesce(i.ferme_declare, false) then cast(2 as tinyint)
           when t.contrat_id is not null then cast(2 as tinyint)
           when i.silencieux then cast(1 as tinyint)
       end as statut_fin,
       i.date_fin_bloc as date_fin_declaree, i.date_fin_periode_paie,
       i.motif as motif_rupture, i.etu_siret, i.date_premiere_declaration,
       i.date_derniere_declaration, i.version_declaration, i.touche
from inferes i
left join fermetures t on t.contrat_id = i.contrat_id
left join debuts b on b.nouveau_id = i.contrat_id
