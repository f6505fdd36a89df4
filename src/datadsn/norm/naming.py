"""French snake-case names for raw tables (one per block) and their columns (one per rubrique).

Key blocks and rubriques get short curated names (the ones analysts type every day); every other
rubrique gets a name derived from its official label, so that all 573 rubriques have a column.
"""

from __future__ import annotations

import re
import unicodedata

TABLES = {
    "S10.G00.00": "envoi",
    "S10.G00.01": "emetteur",
    "S10.G00.02": "contact_emetteur",
    "S20.G00.05": "declaration",
    "S20.G00.07": "contact_declare",
    "S20.G00.08": "organisme_destinataire",
    "S21.G00.06": "entreprise",
    "S21.G00.13": "complement_oeth",
    "S21.G00.11": "etablissement",
    "S21.G00.12": "coordonnees_bancaires",
    "S21.G00.15": "adhesion_prevoyance",
    "S21.G00.16": "changement_adhesion_prevoyance",
    "S21.G00.82": "cotisation_etablissement",
    "S21.G00.20": "versement_organisme",
    "S21.G00.55": "composant_versement",
    "S21.G00.22": "bordereau_cotisation",
    "S21.G00.23": "cotisation_agregee",
    "S21.G00.44": "assujettissement_fiscal",
    "S21.G00.30": "individu",
    "S21.G00.31": "individu_changement",
    "S21.G00.34": "penibilite",
    "S21.G00.40": "contrat",
    "S21.G00.41": "contrat_changement",
    "S21.G00.45": "donnees_precedentes",
    "S21.G00.60": "arret_travail",
    "S21.G00.66": "temps_partiel_therapeutique",
    "S21.G00.62": "contrat_fin",
    "S21.G00.63": "preavis_fin_contrat",
    "S21.G00.65": "autre_suspension",
    "S21.G00.70": "affiliation_prevoyance",
    "S21.G00.73": "ayant_droit",
    "S21.G00.71": "retraite_complementaire",
    "S21.G00.72": "affiliation_tort_retraite",
    "S21.G00.50": "versement",
    "S21.G00.51": "remuneration",
    "S21.G00.53": "activite",
    "S21.G00.52": "prime",
    "S21.G00.54": "autre_element_revenu",
    "S21.G00.56": "regularisation_pas",
    "S21.G00.58": "revenu_net",
    "S21.G00.78": "base_assujettie",
    "S21.G00.79": "composant_base_assujettie",
    "S21.G00.81": "cotisation_individuelle",
    "S21.G00.83": "periode_affiliation_tort",
    "S21.G00.84": "base_tort_retraite",
    "S21.G00.95": "base_tort_regime_base",
    "S21.G00.86": "anciennete",
    "S21.G00.98": "saisie_tiers_detenteur",
    "S21.G00.85": "lieu_travail",
    "S89.G00.32": "beneficiaire_honoraires",
    "S89.G00.33": "avantage_nature",
    "S89.G00.35": "prise_en_charge_indemnites",
    "S89.G00.43": "remuneration_honoraires",
    "S89.G00.67": "retraite_supplementaire",
    "S89.G00.87": "actions_gratuites",
    "S89.G00.88": "stock_options",
    "S89.G00.89": "bspce",
    "S89.G00.91": "individu_non_salarie",
    "S89.G00.92": "bases_non_salarie",
    "S89.G00.93": "regularisation_pas_non_salarie",
    "S89.G00.94": "cotisation_non_salarie",
    "S90.G00.90": "total_envoi",
}

COLUMNS = {
    "S10.G00.00.006": "version_norme",
    "S10.G00.00.008": "type_envoi",
    "S20.G00.05.001": "nature_declaration",
    "S20.G00.05.002": "type_declaration",
    "S20.G00.05.003": "fraction",
    "S20.G00.05.004": "numero_ordre",
    "S20.G00.05.005": "mois_declare",
    "S20.G00.05.006": "identifiant_declaration_remplacee",
    "S20.G00.05.007": "date_constitution",
    "S20.G00.05.008": "champ_declaration",
    "S21.G00.06.001": "siren",
    "S21.G00.06.002": "nic_siege",
    "S21.G00.06.003": "code_apen",
    "S21.G00.06.015": "code_convention_collective",
    "S21.G00.11.001": "nic",
    "S21.G00.11.002": "code_apet",
    "S21.G00.11.017": "nature_juridique",
    "S21.G00.11.022": "code_convention_collective_principale",
    "S21.G00.30.001": "nir",
    "S21.G00.30.002": "nom_famille",
    "S21.G00.30.003": "nom_usage",
    "S21.G00.30.004": "prenoms",
    "S21.G00.30.006": "date_naissance",
    "S21.G00.30.007": "lieu_naissance",
    "S21.G00.30.008": "adresse_voie",
    "S21.G00.30.016": "adresse_complement_construction",
    "S21.G00.30.017": "adresse_complement_voie",
    "S21.G00.30.018": "adresse_mel",
    "S21.G00.30.019": "matricule",
    "S21.G00.30.020": "ntt",
    "S21.G00.31.008": "ancien_nir",
    "S21.G00.31.009": "ancien_nom_famille",
    "S21.G00.31.010": "anciens_prenoms",
    "S21.G00.31.011": "ancienne_date_naissance",
    "S21.G00.40.001": "date_debut",
    "S21.G00.40.002": "statut_conventionnel",
    "S21.G00.40.004": "code_pcs_ese",
    "S21.G00.40.006": "libelle_emploi",
    "S21.G00.40.007": "nature_contrat",
    "S21.G00.40.008": "dispositif_politique_publique",
    "S21.G00.40.009": "numero_contrat",
    "S21.G00.40.010": "date_fin_previsionnelle",
    "S21.G00.40.011": "unite_mesure_quotite",
    "S21.G00.40.012": "quotite_reference",
    "S21.G00.40.013": "quotite_contrat",
    "S21.G00.40.014": "modalite_temps_travail",
    "S21.G00.40.017": "code_convention_collective",
    "S21.G00.40.019": "lieu_travail",
    "S21.G00.40.021": "motif_recours",
    "S21.G00.40.046": "siret_utilisateur",
    "S21.G00.41.004": "ancienne_nature_contrat",
    "S21.G00.41.012": "siret_ancien_etablissement",
    "S21.G00.41.014": "ancien_numero_contrat",
    "S21.G00.41.021": "ancienne_date_debut",
    "S21.G00.62.001": "date_fin",
    "S21.G00.62.002": "motif_rupture",
    "S21.G00.50.001": "date_versement",
    "S21.G00.50.003": "numero_versement",
    "S21.G00.51.001": "date_debut_periode_paie",
    "S21.G00.51.002": "date_fin_periode_paie",
    "S21.G00.51.010": "numero_contrat",
    "S21.G00.51.011": "type_remuneration",
    "S21.G00.51.012": "nombre_heures",
    "S21.G00.53.001": "type_activite",
    "S21.G00.53.003": "unite_mesure",
    "S21.G00.85.001": "identifiant_lieu_travail",
    "S21.G00.85.002": "code_apet",
}

_STOP = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "pour"}
_STOP |= {"par", "sur", "dans", "un", "une", "ou", "qui"}


def snake(label: str, limit: int = 63) -> str:
    """ASCII snake case of a French label, without articles, at most ``limit`` characters."""
    text = label.replace("’", "'").replace("[FP]", "fp ")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _STOP]
    name = "_".join(words) or "x"
    return name[:limit].rstrip("_")


def column_name(rubrique_id: str, label: str, taken: set[str]) -> str:
    """The column of a rubrique, unique inside its block (suffixed with its number on a clash)."""
    name = COLUMNS.get(rubrique_id) or snake(label)
    if name[0].isdigit():
        name = "r_" + name
    if name in taken:
        name = f"{name[:58]}_{rubrique_id[-3:]}"
    return name


def table_name(block_id: str, label: str) -> str:
    return TABLES.get(block_id) or snake(label)
