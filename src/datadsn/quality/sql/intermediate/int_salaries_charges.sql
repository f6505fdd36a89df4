-- Employees per (establishment, identity key) before merges, of the working set (prev_salaries:
-- the employees declared last month, see quality/salaries_archive.py) and of the archived ones
-- declared again (int_salaries_rappeles). An existing row keeps its id
-- (which may predate its current key after a merge); a new key gets a hash of SIRET and key.
-- touche = declared in this run: only such rows can start an inferred merge. Only keys declared
-- in this run (or, defensively, held twice) are ranked; the other stored rows pass through as
-- they are, so the cost follows the month's declarations rather than the size of the state.
-- @kind table
-- @key salarie_id
with candidats as (
    select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
           date_naissance, sexe, annee_naissance, mois_naissance, matricule,
           date_premiere_declaration, date_derniere_declaration, version_declaration,
           false as touche, 0 as ligne
    from prev_salaries
    union all
    select salarie_id, etablissement_id, siret, salarie_key, nir, nom_famille, nom_usage, prenoms,
           date_naissance, sexe, annee_naissance, mois_naissance, matricule,
           date_premiere_declaration, date_derniere_declaration, version_declaration, false, 0
    from int_salaries_rappeles
    union all
    select cast(null as varchar), cast(null as varchar), i.siret,
           i.salarie_key, i.nir, i.nom_famille, i.nom_usage, i.prenoms, i.date_naissance, i.sexe,
           i.annee_naissance, i.mois_naissance, i.matricule, i.mois, i.mois,
           i.version_declaration, true,
           i.individu_ligne
    from stg_individus i
    join int_declarations_nouvelles n on n.version_declaration = i.version_declaration
),
a_classer as (
    select siret, salarie_key from candidats where touche
    union
    select siret, salarie_key from candidats
    group by siret, salarie_key having count(*) > 1
),
-- One group per key: aggregates rather than windows (no sort). The attributes come from the
-- latest declaration (an individual declared twice in one declaration: the later block wins),
-- the greatest (version_declaration, ligne) being the first fields of the struct; the id from the
-- stored rows if any (the smallest). New rows carry no ids: a key without a stored row gets the
-- hash of its SIRET and key, and a row of it the hash of its SIRET, computed once per group
-- rather than for every declared row (most keys are stored already).
classes as (
    select
        siret,
        salarie_key,
        max(struct_pack(
            version_declaration := version_declaration, ligne := ligne,
            etablissement_id := etablissement_id, nir := nir, nom_famille := nom_famille,
            nom_usage := nom_usage, prenoms := prenoms, date_naissance := date_naissance,
            sexe := sexe, annee_naissance := annee_naissance, mois_naissance := mois_naissance,
            matricule := matricule
        )) as d,
        min(salarie_id) as id_retenu,
        min(date_premiere_declaration) as premiere,
        max(date_derniere_declaration) as derniere,
        max(case when touche then 1 else 0 end) as touchee
    from candidats c
    where exists (select 1 from a_classer k
                  where k.siret = c.siret and k.salarie_key = c.salarie_key)
    group by siret, salarie_key
)
select coalesce(id_retenu, substr(md5(concat('salarie|', siret, '|', salarie_key)), 1, 16))
           as salarie_id,
       coalesce(d.etablissement_id, substr(md5(concat('etablissement|', siret)), 1, 16))
           as etablissement_id,
       siret, salarie_key, d.nir, d.nom_famille,
       d.nom_usage, d.prenoms, d.date_naissance, d.sexe, d.annee_naissance, d.mois_naissance,
       d.matricule, premiere as date_premiere_declaration, derniere as date_derniere_declaration,
       d.version_declaration, touchee = 1 as touche
from classes
union all
select salarie_id, etablissement_id, siret, salarie_key, nir,
       nom_famille, nom_usage, prenoms, date_naissance, sexe, annee_naissance, mois_naissance,
       matricule, date_premiere_declaration, date_derniere_declaration, version_declaration, false
from candidats c
where not exists (select 1 from a_classer k
                  where k.siret = c.siret and k.salarie_key = c.salarie_key)
