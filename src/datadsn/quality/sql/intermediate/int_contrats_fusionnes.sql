-- Contracts after change-block merges: absorbed rows disappear, the newest key survives under
-- the survivor id.
-- @kind table
-- @key contrat_id
select coalesce(r.cible_id, c.contrat_id) as contrat_id, c.etablissement_id, c.salarie_id,
       c.contrat_key, c.numero, c.date_debut, c.poste_id, c.nature_contrat,
       c.code_convention_collective, c.motif_recours, c.dispositif_politique_publique,
       c.lieu_travail, c.unite_mesure_quotite, c.quotite_contrat, c.date_fin_previsionnelle,
       c.etu_siret, c.date_fin_periode_paie, c.date_debut_effective, c.date_fin_effective, c.statut_fin,
       c.date_fin_declaree, c.motif_rupture,
       coalesce(r.premiere, c.date_premiere_declaration) as date_premiere_declaration,
       c.date_derniere_declaration, c.version_declaration, c.touche
from int_contrats_charges c
left join int_remap_contrats r on r.ancien_id = c.contrat_id
where not exists (select 1 from int_fusions_contrats f where f.ancien_id = c.contrat_id)
