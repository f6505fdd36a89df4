-- Every employee of the new state before the 72-month retention: this run's (int_salaries) and
-- the archived ones it leaves as they are.
-- @kind view
-- A view: a union read a few times, which a table would only copy.
-- @key salarie_id
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, matricule, date_premiere_declaration,
       date_derniere_declaration, version_declaration, touche
from int_salaries
union all
select a.salarie_id, a.etablissement_id, a.siret, a.salarie_key, a.nir, a.nom_famille, a.nom_usage,
       a.prenoms, a.date_naissance, a.sexe, a.annee_naissance, a.mois_naissance, a.matricule,
       a.date_premiere_declaration, a.date_derniere_declaration, a.version_declaration, false
from prev_salaries_archives a
-- an anti-join spelt as a join: DuckDB plans NOT EXISTS here as a delim join over every
-- archived id, at each of the view's scans
left join int_salaries_retirees r on r.salarie_id = a.salarie_id
where r.salarie_id is null
