-- Hours declared in this run, per remuneration and contract line, before the split over calendar
-- months. Contract lines, not ids: this step needs no merge, so it runs beside them, off the
-- critical path; int_heures_declarees puts the final contract ids on its rows.
-- 002 with activity lines (01 paid, 02 unpaid): their measure and declared unit, NULL when left
-- out or rejected as unknown; unite_mois, the unit the contract line's other activity lines
-- declare; the contract's quotité unit. int_heures_declarees turns them into hours (it knows the
-- contract id, hence the units of earlier months). 017/018: overtime from nombre_heures, counted
-- ONCE however many activity lines the block carries (the reference multiplied it).
-- A remuneration finds its contract by normalised number within the same individual; if the
-- individual declares the same number twice the first contract line takes the hours (once).
-- @kind table
with contrats_declares as (
    select c.fichier, c.individu_ligne, c.numero, c.contrat_ligne, c.unite_mesure_quotite,
           row_number() over (
               partition by c.fichier, c.individu_ligne, c.numero order by c.contrat_ligne
           ) as rang
    from stg_contrats c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
    where exists (select 1 from stg_individus i
                  where i.fichier = c.fichier and i.individu_ligne = c.individu_ligne)
),
remunerations as (
    select r.fichier, r.remuneration_ligne, r.decl_key, r.mois, r.type_remuneration,
           r.nombre_heures, k.contrat_ligne, k.unite_mesure_quotite,
           coalesce(r.debut, r.mois) as debut,
           coalesce(r.fin, last_day(r.mois)) as fin
    from stg_remunerations r
    join int_declarations_nouvelles n on n.version_declaration = r.version_declaration
    join contrats_declares k
        on k.fichier = r.fichier and k.individu_ligne = r.individu_ligne and k.numero = r.numero
        and k.rang = 1
    -- only monthly declarations carry the month's pay; event reports (signalements) would
    -- repeat it
    where r.type_remuneration in ('002', '017', '018') and r.nature_declaration = '01'
),
activites as (
    select r.fichier, r.decl_key, r.mois, r.contrat_ligne, r.debut, r.fin, a.type_activite,
           a.mesure, a.unite_mesure, r.unite_mesure_quotite,
           min(a.unite_mesure) over (partition by r.fichier, r.contrat_ligne) as unite_mois
    from remunerations r
    join stg_activites a on a.fichier = r.fichier and a.remuneration_ligne = r.remuneration_ligne
    where r.type_remuneration = '002'
)
select fichier, contrat_ligne, decl_key, mois as mois_declaration, debut, fin, type_activite,
       mesure, unite_mesure as unite_declaree, unite_mois, unite_mesure_quotite,
       cast(0 as decimal(18, 2)) as heures_supp
from activites
union all
select fichier, contrat_ligne, decl_key, mois, debut, fin, cast(null as varchar),
       cast(0 as decimal(18, 2)), cast(null as varchar), cast(null as varchar),
       cast(null as varchar), coalesce(nombre_heures, 0)
from remunerations
where type_remuneration in ('017', '018')
