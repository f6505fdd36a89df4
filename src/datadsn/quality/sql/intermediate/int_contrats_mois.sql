-- Contract x declared month with that month's attributes and gross pay (type 001), for the months
-- this run rewrites (prev_contrats_mois holds only those). A replaced declaration key drops its
-- rows. Stored ids are resolved through fusions when read. Only the (contract, month) pairs
-- held twice are ranked: a window over every row cost more than the rest of the step.
-- unite_mesure_activite: the unit the month's activity lines declared (int_heures_lignes), kept
-- for the months after whose unit is garbled (int_heures_declarees).
-- @kind table
-- @key contrat_id, mois
with brut as (
    select r.fichier, r.individu_ligne, r.numero, sum(r.montant) as montant
    from stg_remunerations r
    where r.type_remuneration = '001'
    group by r.fichier, r.individu_ligne, r.numero
),
unites as (
    select distinct fichier, contrat_ligne, unite_mois
    from int_heures_lignes
    where unite_mois is not null
),
nouveaux as (
    select l.contrat_id, l.mois, l.decl_key, c.nature_contrat, c.unite_mesure_quotite,
           c.quotite_contrat, c.modalite_temps_travail, c.lieu_travail, c.statut_conventionnel,
           c.code_pcs_ese, b.montant as remuneration_brute, l.version_declaration,
           u.unite_mois as unite_mesure_activite
    from int_liens_contrats_finaux l
    join stg_declarations d
        on d.version_declaration = l.version_declaration and d.nature_declaration = '01'
    join stg_contrats c on c.fichier = l.fichier and c.contrat_ligne = l.contrat_ligne
    left join brut b
        on b.fichier = l.fichier and b.individu_ligne = l.individu_ligne and b.numero = l.numero
    left join unites u on u.fichier = l.fichier and u.contrat_ligne = l.contrat_ligne
),
anciens as (
    select p.contrat_id, p.mois, p.decl_key, p.nature_contrat,
           p.unite_mesure_quotite, p.quotite_contrat, p.modalite_temps_travail, p.lieu_travail,
           p.statut_conventionnel, p.code_pcs_ese, p.remuneration_brute, p.version_declaration,
           p.unite_mesure_activite
    from prev_contrats_mois p
    where not exists (select 1 from int_declarations_nouvelles n where n.decl_key = p.decl_key)
),
toutes as (
    select * from anciens
    union all
    select * from nouveaux
),
doubles as (
    select contrat_id, mois from toutes group by contrat_id, mois having count(*) > 1
),
classes as (
    select *, row_number() over (
        partition by contrat_id, mois order by version_declaration desc, decl_key
    ) as rang
    from toutes t
    where exists (select 1 from doubles d where d.contrat_id = t.contrat_id and d.mois = t.mois)
)
select contrat_id, mois, decl_key, nature_contrat, unite_mesure_quotite, quotite_contrat,
       modalite_temps_travail, lieu_travail, statut_conventionnel, code_pcs_ese,
       remuneration_brute, version_declaration, unite_mesure_activite
from classes
where rang = 1
union all
select contrat_id, mois, decl_key, nature_contrat, unite_mesure_quotite, quotite_contrat,
       modalite_temps_travail, lieu_travail, statut_conventionnel, code_pcs_ese,
       remuneration_brute, version_declaration, unite_mesure_activite
from toutes t
where not exists (select 1 from doubles d where d.contrat_id = t.contrat_id and d.mois = t.mois)
