-- Hours of this run per (declaration, contract, calendar month): a pay period is split over its
-- months by working days (Mon-Fri, not a French public holiday). A period without any working
-- day is split by calendar days instead of being counted in full in every month (the reference
-- double counted it).
-- @kind table
-- @key decl_key, contrat_id, mois
with periodes as (
    select distinct debut, fin from int_heures_declarees where fin >= debut
),
jours as (
    select p.debut, p.fin, k.mois, count(*) as jours,
           sum(case when k.ouvre then 1 else 0 end) as ouvres
    from periodes p
    join calendrier k on k.jour >= p.debut and k.jour <= p.fin
    group by p.debut, p.fin, k.mois
),
ratios as (
    select debut, fin, mois,
           case
               when sum(ouvres) over (partition by debut, fin) > 0
                   then ouvres / sum(ouvres) over (partition by debut, fin)
               else jours / sum(jours) over (partition by debut, fin)
           end as ratio
    from jours
)
select h.decl_key, h.contrat_id, r.mois,
       sum(cast(h.heures_standards * r.ratio as decimal(18, 4))) as heures_standards_remunerees,
       sum(cast(h.heures_non_remunerees * r.ratio as decimal(18, 4))) as heures_non_remunerees,
       sum(cast(h.heures_supp * r.ratio as decimal(18, 4))) as heures_supp_remunerees,
       max(h.mois_declaration) as mois_declaration
from int_heures_declarees h
join ratios r on r.debut = h.debut and r.fin = h.fin
group by h.decl_key, h.contrat_id, r.mois
