-- Contracts per (employee, contract key) before change-block merges. Employee merges cascade here:
-- once re-pointed to the surviving employee, two contracts with the same key are one contract
-- (the first declared keeps its id). Attributes: latest declaration; end status: carried from
-- the most recent stored row.
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
),
-- end of the last paid period of each declared contract: the best end date when it stops silently
periodes as (
    select fichier, individu_ligne, numero, max(fin) as fin
    from stg_remunerations
    group by fichier, individu_ligne, numero
),
candidats as (
    select p.contrat_id, p.etablissement_id, coalesce(r.cible_id, p.salarie_id) as salarie_id,
           p.contrat_key, p.numero, p.date_debut, p.poste_id, p.nature_contrat,
           p.code_convention_collective, p.motif_recours, p.dispositif_politique_publique,
           p.lieu_travail, p.unite_mesure_quotite, p.quotite_contrat, p.date_fin_previsionnelle,
           p.etu_siret, p.date_debut_effective, p.date_fin_effective, p.statut_fin,
           p.date_fin_declaree, p.date_fin_periode_paie, p.motif_rupture, p.date_premiere_declaration,
           p.date_derniere_declaration, p.version_declaration, false as touche, 0 as ligne
    from int_contrats_stock p
    left join salaries_remap r on r.ancien_id = p.salarie_id
    where p.ett_contrat_id is null
    union all
    select substr(md5(concat('contrat|', c.siret, '|', c.salarie_key, '|', c.contrat_key)), 1, 16),
           substr(md5(concat('etablissement|', c.siret)), 1, 16),
           c.salarie_id, c.contrat_key, c.numero, c.date_debut,
           case when c.poste_key is not null then substr(md5(concat('poste|', c.poste_key)), 1, 16) end,
           c.nature_contrat, c.code_convention_collective, c.motif_recours,
           c.dispositif_politique_publique, c.lieu_travail, c.unite_mesure_quotite,
           c.quotite_contrat, c.date_fin_previsionnelle, c.etu_siret, cast(null as date),
           cast(null as date), cast(null as tinyint), cast(null as date), q.fin,
           cast(null as varchar), c.mois, c.mois, c.version_declaration, true, c.contrat_ligne
    from int_contrats_declares c
    left join periodes q
        on q.fichier = c.fichier and q.individu_ligne = c.individu_ligne and q.numero = c.numero
),
classes as (
    select
        *,
        row_number() over (
            partition by salarie_id, contrat_key order by version_declaration desc, ligne desc
        ) as rang_attributs,
        -- the id first issued survives; end status comes from the most recent stored row
        first_value(contrat_id) over prems as id_retenu,
        first_value(date_debut_effective) over statut as debut_effectif,
        first_value(date_fin_effective) over statut as fin_effective,
        first_value(statut_fin) over statut as statut,
        first_value(date_fin_declaree) over statut as fin_declaree,
        first_value(motif_rupture) over statut as motif,
        min(date_premiere_declaration) over cle as premiere,
        max(date_derniere_declaration) over cle as derniere,
        max(case when touche then 1 else 0 end) over cle as touchee
    from candidats
    window
        cle as (partition by salarie_id, contrat_key),
        prems as (partition by salarie_id, contrat_key
                  order by touche, date_premiere_declaration, contrat_id
                  rows between unbounded preceding and unbounded following),
        statut as (partition by salarie_id, contrat_key
                   order by touche, version_declaration desc, contrat_id
                   rows between unbounded preceding and unbounded following)
)
select id_retenu as contrat_id, etablissement_id, salarie_id, contrat_key, numero, date_debut,
       poste_id, nature_contrat, code_convention_collective, motif_recours,
       dispositif_politique_publique, lieu_travail, unite_mesure_quotite, quotite_contrat,
       date_fin_previsionnelle, etu_siret, date_fin_periode_paie,
       debut_effectif as date_debut_effective,
       fin_effective as date_fin_effective, statut as statut_fin,
       fin_declaree as date_fin_declaree, motif as motif_rupture,
       premiere as date_premiere_declaration, derniere as date_derniere_declaration,
       version_declaration, touchee = 1 as touche
from classes
where rang_attributs = 1
