-- Declared individuals with their identity key: the NIR pseudonym, else names and birth date.
-- The ~ prefix keeps a name key from ever equalling a NIR key.
-- @kind table
-- @key fichier, individu_ligne
select
    i.fichier,
    i.ligne as individu_ligne,
    d.decl_key,
    d.version_declaration,
    d.mois,
    d.siret,
    i.nir_pseudo as nir,
    i.nom_famille_pseudo as nom_famille,
    i.nom_usage_pseudo as nom_usage,
    i.prenoms_pseudo as prenoms,
    i.date_naissance_pseudo as date_naissance,
    i.sexe,
    i.annee_date_naissance as annee_naissance,
    i.mois_date_naissance as mois_naissance,
    i.matricule_pseudo as matricule,
    coalesce(
        i.nir_pseudo,
        concat('~', coalesce(i.nom_famille_pseudo, ''), '|', coalesce(i.prenoms_pseudo, ''), '|', coalesce(i.date_naissance_pseudo, ''))
    ) as salarie_key
from raw_individu i
join stg_declarations d on d.fichier = i.fichier and d.declaration_ligne = i.declaration_ligne
