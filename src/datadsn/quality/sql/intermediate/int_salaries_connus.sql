-- Every employee known before this run's merges: the run's employees (int_salaries_charges)
-- and the archived ones not declared again, as they are.
-- @kind view
-- A view: a union read a few times, which a table would only copy.
-- @key salarie_id
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, matricule, date_premiere_declaration,
       date_derniere_declaration, version_declaration, touche
from int_salaries_charges
union all
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, matricule, date_premiere_declaration,
       date_derniere_declaration, version_declaration, false
from prev_salaries_archives a
where not exists (select 1 from int_salaries_rappeles r where r.salarie_id = a.salarie_id)
