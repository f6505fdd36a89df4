-- Employees declared within the last 72 months (int_salaries_reels), plus the copies of
-- temporary workers in their user establishments (int_salaries_copies).
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, cast(null as boolean) as allocated_from_ett,
       date_premiere_declaration, date_derniere_declaration, version_declaration
from int_salaries_reels
union all
select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
       date_naissance, sexe, annee_naissance, mois_naissance, true, date_premiere_declaration,
       date_derniere_declaration, version_declaration
from int_salaries_copies
