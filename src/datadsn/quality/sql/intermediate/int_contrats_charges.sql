-- Contracts per (employee, contract key) before change-block merges. Employee merges cascade here:
-- once re-pointed to the surviving employee, two contracts with the same key are one contract
-- (the first declared keeps its id). Attributes: latest declaration; end status: carried from
-- the most recent stored row.
-- @kind table
-- @key contrat_id
with salaries_remap as (
    select ancien_id, cible_id from int_remap_salaries where ancien_id <> cible_id
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
    select c.contrat_id_nouveau, c.etablissement_id_nouveau,
           c.salarie_id, c.contrat_key, c.numero, c.date_debut, c.poste_id_nouveau,
           c.nature_contrat, c.code_convention_collective, c.motif_recours,
           c.dispositif_politique_publique, c.lieu_travail, c.unite_mesure_quotite,
           c.quotite_contrat, c.date_fin_previsionnelle, c.etu_siret, cast(null as date),
           cast(null as date), cast(null as tinyint), cast(null as date), c.fin_derniere_periode,
           cast(null as varchar), c.mois, c.mois, c.version_declaration, true, c.contrat_ligne
    from int_contrats_declares c
),
-- One group per (employee, contract key): aggregates rather than windows (no sort). Each max or
-- min of a struct picks a row by its leading fields: the attributes from the latest declaration
-- (version, then line; equal versions, two stored rows of one declaration after an employee
-- merge: the greatest id), read back from that row by a join, since the max of a struct of every
-- attribute cost more than the join (0.123 against 0.107 s at month 24); the id first issued
-- among the stored rows if any, else among the new ones; the end status from the most recent
-- stored row (same tie-break).
classes as (
    select
        salarie_id,
        contrat_key,
        max(struct_pack(v := version_declaration, l := ligne, id := contrat_id)) as a,
        coalesce(
            min(case when not touche then struct_pack(p := date_premiere_declaration, id := contrat_id) end),
            min(struct_pack(p := date_premiere_declaration, id := contrat_id))
        ).id as id_retenu,
        max(case when not touche then struct_pack(
            v := version_declaration, id := contrat_id, debut := date_debut_effective,
            fin := date_fin_effective, statut := statut_fin, declaree := date_fin_declaree,
            motif := motif_rupture
        ) end) as s,
        min(date_premiere_declaration) as premiere,
        max(date_derniere_declaration) as derniere,
        max(case when touche then 1 else 0 end) as touchee
    from candidats
    group by salarie_id, contrat_key
)
select k.id_retenu as contrat_id, c.etablissement_id, k.salarie_id, k.contrat_key, c.numero,
       c.date_debut, c.poste_id, c.nature_contrat, c.code_convention_collective, c.motif_recours,
       c.dispositif_politique_publique, c.lieu_travail, c.unite_mesure_quotite, c.quotite_contrat,
       c.date_fin_previsionnelle, c.etu_siret, c.date_fin_periode_paie,
       k.s.debut as date_debut_effective, k.s.fin as date_fin_effective, k.s.statut as statut_fin,
       k.s.declaree as date_fin_declaree, k.s.motif as motif_rupture,
       k.premiere as date_premiere_declaration, k.derniere as date_derniere_declaration,
       c.version_declaration, k.touchee = 1 as touche
from classes k
join candidats c
    on c.salarie_id = k.salarie_id and c.contrat_key = k.contrat_key
    and c.contrat_id = k.a.id and c.ligne = k.a.l and c.version_declaration = k.a.v
