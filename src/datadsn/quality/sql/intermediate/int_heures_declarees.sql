-- Hours declared in this run (int_heures_lignes) on their final contract ids. Units 10/21 hours,
-- 12/20 days of 7 h, others 0. An activity line without a valid unit (left out, or rejected as
-- an unknown code) takes the unit its contract declared in its latest month of the 3 before
-- (int_contrats_mois for this run's months, prev_unites_activite for the stored ones), then
-- the unit of the contract's other activity lines of the month, and only then the contract's
-- quotité unit: a contract paid in days whose unit was garbled is still paid in days.
-- @kind table
with lignes as (
    select h.decl_key, h.mois_declaration, l.contrat_id, h.debut, h.fin, h.type_activite,
           h.mesure, h.unite_declaree, h.unite_mois, h.unite_mesure_quotite, h.heures_supp
    from int_heures_lignes h
    join int_liens_contrats_finaux l on l.fichier = h.fichier and l.contrat_ligne = h.contrat_ligne
),
unites as (
    select contrat_id, mois, unite_mesure_activite from prev_unites_activite
    union all
    select contrat_id, mois, unite_mesure_activite
    from int_contrats_mois
    where unite_mesure_activite is not null
),
sans_unite as (
    select distinct contrat_id, mois_declaration
    from lignes
    where type_activite is not null and unite_declaree is null
),
anterieures as (
    select s.contrat_id, s.mois_declaration, u.unite_mesure_activite,
           row_number() over (
               partition by s.contrat_id, s.mois_declaration
               order by u.mois desc, u.unite_mesure_activite
           ) as rang
    from sans_unite s
    join unites u
        on u.contrat_id = s.contrat_id and u.mois < s.mois_declaration
        and u.mois >= s.mois_declaration - interval 3 month
),
resolues as (
    select g.*,
           coalesce(g.unite_declaree, a.unite_mesure_activite, g.unite_mois,
                    g.unite_mesure_quotite) as unite
    from lignes g
    left join anterieures a
        on a.contrat_id = g.contrat_id and a.mois_declaration = g.mois_declaration
        and a.rang = 1 and g.unite_declaree is null
),
heures as (
    select *,
           case
               when unite in ('10', '21') then mesure
               when unite in ('12', '20') then mesure * 7
               else 0
           end as heures
    from resolues
)
select decl_key, mois_declaration, contrat_id, debut, fin,
       case when type_activite = '01' then heures else 0 end as heures_standards,
       case when type_activite = '02' then heures else 0 end as heures_non_remunerees,
       heures_supp
from heures
