-- Employees after merges: absorbed rows disappear, the target identity keeps its key and
-- attributes under the survivor id.
select coalesce(r.cible_id, s.salarie_id) as salarie_id, s.etablissement_id, s.siret,
       s.salarie_key, s.nir, s.nom_famille, s.nom_usage, s.prenoms, s.date_naissance, s.sexe,
       s.annee_naissance, s.mois_naissance,
       coalesce(r.premiere, s.date_premiere_declaration) as date_premiere_declaration,
       s.date_derniere_declaration, s.version_declaration, s.touche
from int_salaries_charges s
left join int_remap_salaries r on r.ancien_id = s.salarie_id
where not exists (select 1 from int_fusions_salaries f where f.ancien_id = s.salarie_id)
