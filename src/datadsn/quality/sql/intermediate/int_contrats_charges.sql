-- Contracts per (employee, contract key) before change-block merges. Employee merges cascade here:
-- once re-pointed to the surviving employee, two contracts with the same key are one contract
-- (the first declared keeps its id). Attributes: latest declaration; end status: carried from
-- the most recent stored row.
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
),
candidats as (
    select p.contrat_id, p.etablissement_id, coalesce(r.cible_id, p.salarie_id) as salarie_id,
           p.contrat_key, p.numero, p.date_debut, p.poste_id, p.nature_contrat,
           p.code_convention_collective, p.motif_recours, p.dispositif_politique_publique,
           p.lieu_travail, p.unite_mesure_quotite, p.quotite_contrat, p.date_fin_previsionnelle,
           p.etu_siret, p.date_debut_effective, p.date_fin_effective, p.statut_fin,
           p.date_fin_declaree, p.motif_rupture, p.date_premiere_declaration,
           p.date_derniere_declaration, p.version_declaration, false as touche
    from prev_contrats p
    left join salaries_remap r on r.ancien_id = p.salarie_id
    where p.ett_contrat_id is null
    union all
    select substr(md5(concat('contrat|', c.siret, '|', l.salarie_key, '|', c.contrat_key)), 1, 16),
           substr(md5(concat('etablissement|', c.siret)), 1, 16),
           coalesce(r.cible_id, l.salarie_id), c.contrat_key, c.numero, c.date_debut,
           case when c.poste_key is not null then substr(md5(concat('poste|', c.poste_key)), 1, 16) end,
           c.nature_contrat, c.code_convention_collective, c.motif_recours,
           c.dispositif_politique_publique, c.lieu_travail, c.unite_mesure_quotite,
           c.quotite_contrat, c.date_fin_previsionnelle, c.etu_siret, cast(null as date),
           cast(null as date), cast(null as tinyint), cast(null as date), cast(null as varchar),
           c.mois, c.mois, c.version_declaration, true
    from stg_contrats c
    join int_declarations_nouvelles n on n.version_declaration = c.version_declaration
    join int_liens_individus l on l.fichier = c.fichier and l.individu_ligne = c.individu_ligne
    left join salaries_remap r on r.ancien_id = l.salarie_id
),
classes as (
    select
        *,
        row_number() over (partition by salarie_id, contrat_key order by version_declaration desc, contrat_id) as rang_attributs,
        row_number() over (partition by salarie_id, contrat_key order by touche, date_premiere_declaration, contrat_id) as rang_id,
        row_number() over (partition by salarie_id, contrat_key order by touche, version_declaration desc, contrat_id) as rang_statut,
        min(date_premiere_declaration) over (partition by salarie_id, contrat_key) as premiere,
        max(date_derniere_declaration) over (partition by salarie_id, contrat_key) as derniere,
        max(case when touche then 1 else 0 end) over (partition by salarie_id, contrat_key) as touchee
    from candidats
)
select i.contrat_id, a.etablissement_id, a.salarie_id, a.contrat_key, a.numero, a.date_debut,
       a.poste_id, a.nature_contrat, a.code_convention_collective, a.motif_recours,
       a.dispositif_politique_publique, a.lieu_travail, a.unite_mesure_quotite, a.quotite_contrat,
       a.date_fin_previsionnelle, a.etu_siret, s.date_debut_effective, s.date_fin_effective,
       s.statut_fin, s.date_fin_declaree, s.motif_rupture, a.premiere as date_premiere_declaration,
       a.derniere as date_derniere_declaration, a.version_declaration, a.touchee = 1 as touche
from classes a
join classes i on i.salarie_id = a.salarie_id and i.contrat_key = a.contrat_key and i.rang_id = 1
join classes s on s.salarie_id = a.salarie_id and s.contrat_key = a.contrat_key and s.rang_statut = 1
where a.rang_attributs = 1
