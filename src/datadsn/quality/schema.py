"""Columns of the published tables (the state carried from one month to the next).

Marts are written with exactly these columns in this order, and a first month starts from
empty tables of these types, so the SQL never has to special-case "no previous snapshot".
"""

from __future__ import annotations

D = "DATE"
S = "VARCHAR"
B = "BOOLEAN"
H = "DECIMAL(18,4)"  # hours: exact sums, so reruns and merge orders give identical values

_DECL = {"date_premiere_declaration": D, "date_derniere_declaration": D, "version_declaration": S}

TABLES: dict[str, dict[str, str]] = {
    "declarations": {
        "decl_key": S,
        "fichier": S,
        "declaration_ligne": "INTEGER",
        "siret": S,
        "mois": D,
        "fraction": S,
        "type_declaration": S,
        "version_declaration": S,
        "effective": B,
        "mois_integration": D,
    },
    "entreprises": {
        "entreprise_id": S,
        "siren": S,
        "code_apen": S,
        "nic_siege": S,
        **_DECL,
    },
    "etablissements": {
        "etablissement_id": S,
        "entreprise_id": S,
        "siret": S,
        "siren": S,
        "nic": S,
        "siege_social": B,
        "ouvert": B,
        "code_naf": S,
        "code_postal": S,
        "commune": S,
        "nature_juridique": S,
        "code_convention_collective": S,
        **_DECL,
    },
    "salaries": {
        "salarie_id": S,
        "etablissement_id": S,
        "siret": S,
        "salarie_key": S,
        "nir": S,
        "nom_famille": S,
        "nom_usage": S,
        "prenoms": S,
        "date_naissance": S,
        "sexe": S,
        "annee_naissance": "SMALLINT",
        "mois_naissance": "TINYINT",
        "allocated_from_ett": B,
        **_DECL,
    },
    "contrats": {
        "contrat_id": S,
        "etablissement_id": S,
        "salarie_id": S,
        "contrat_key": S,
        "numero": S,
        "date_debut": D,
        "date_debut_effective": D,
        "poste_id": S,
        "nature_contrat": S,
        "code_convention_collective": S,
        "motif_recours": S,
        "dispositif_politique_publique": S,
        "lieu_travail": S,
        "unite_mesure_quotite": S,
        "quotite_contrat": "DECIMAL(18,2)",
        "date_fin_previsionnelle": D,
        "date_fin_effective": D,
        "statut_fin": "TINYINT",
        "date_fin_declaree": D,
        "date_fin_periode_paie": D,
        "motif_rupture": S,
        "etu_siret": S,
        "etu_id": S,
        "ett_contrat_id": S,
        "codes_inconnus": S,
        **_DECL,
    },
    "postes": {"poste_id": S, "poste_key": S, "date_derniere_declaration": D},
    "activites": {
        "contrat_id": S,
        "mois": D,
        "heures_standards_remunerees": H,
        "heures_non_remunerees": H,
        "heures_supp_remunerees": H,
        "date_derniere_declaration": D,
    },
    "activites_sources": {
        "decl_key": S,
        "contrat_id": S,
        "mois": D,
        "heures_standards_remunerees": H,
        "heures_non_remunerees": H,
        "heures_supp_remunerees": H,
        "mois_declaration": D,
    },
    "contrats_mois": {
        "contrat_id": S,
        "mois": D,
        "decl_key": S,
        "nature_contrat": S,
        "unite_mesure_quotite": S,
        "quotite_contrat": "DECIMAL(18,2)",
        "modalite_temps_travail": S,
        "lieu_travail": S,
        "statut_conventionnel": S,
        "code_pcs_ese": S,
        "remuneration_brute": "DECIMAL(18,2)",
        "version_declaration": S,
    },
    "fusions": {
        "entite": S,
        "id_absorbe": S,
        "id_survivant": S,
        "motif": S,
        "date_modification": D,
        "mois": D,
    },
    "chargements": {
        "mois": D,
        "debut": "TIMESTAMP",
        "fin": "TIMESTAMP",
        "declarations": "BIGINT",
        "entreprises": "BIGINT",
        "etablissements": "BIGINT",
        "salaries": "BIGINT",
        "contrats": "BIGINT",
        "activites": "BIGINT",
        "fusions": "BIGINT",
        "version": S,
    },
}

# Sort order of each published file: reruns then write rows in the same order.
KEYS: dict[str, str] = {
    "declarations": "decl_key, fichier, declaration_ligne",
    "entreprises": "entreprise_id",
    "etablissements": "etablissement_id",
    "salaries": "salarie_id",
    "contrats": "contrat_id",
    "postes": "poste_id",
    "activites": "contrat_id, mois",
    "activites_sources": "decl_key, contrat_id, mois",
    "contrats_mois": "contrat_id, mois",
    "fusions": "entite, id_absorbe",
    "chargements": "mois",
}

# Tables kept out of the plain-name catalogue views (internal bookkeeping).
INTERNAL = {"activites_sources", "declarations"}


def select_list(table: str, present: set[str] | None = None) -> str:
    """Columns in schema order; a column absent from an older snapshot reads as NULL."""
    return ", ".join(
        f"CAST({c if present is None or c in present else 'NULL'} AS {t}) AS {c}"
        for c, t in TABLES[table].items()
    )
