-- The employees this run writes, after merges: absorbed rows disappear, the target identity
-- keeps its key and attributes under the survivor id. The archived employees outside this run
-- (int_salaries_tous) are not copied.
-- @kind table
-- @key salarie_id
with lignes as (
    select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage,
           prenoms, date_naissance, sexe, annee_naissance, mois_naissance, matricule,
           date_premiere_declaration, date_derniere_declaration, version_declaration, touche
    from int_salaries_charges
    union all
    select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage,
           prenoms, date_naissance, sexe, annee_naissance, mois_naissance, matricule,
           date_premiere_declaration, date_derniere_declaration, version_declaration, false
    from prev_salaries_archives a
    where a.salarie_id in (select salarie_id from int_salaries_retirees)
        and not exists (select 1 from int_salaries_rappeles r where r.salarie_id = a.salarie_id)
)
select coalesce(r.cible_id, s.salarie_id) as salarie_id, s.etablissement_id, s.siret,
       s.salarie_key, s.nir, s.nom_famille, s.nom_usage, s.prenoms, s.date_naissance, s.sexe,
       s.annee_naissance, s.mois_naissance, s.matricule,
       coalesce(r.premiere, s.date_premiere_declaration) as date_premiere_declaration,
       s.date_derniere_declaration, s.version_declaration, s.touche
from lignes s
left join int_remap_salaries r on r.ancien_id = s.salarie_id
-- absorbed rows left out by a join, not a NOT EXISTS, which DuckDB plans as a delim join
left join int_fusions_salaries f on f.ancien_id = s.salarie_id
where f.ancien_id is null
