"""Problem codes found while reading DSN files, with their French messages.

Every problem is reported with file, line, rubrique, a machine code and a French message. A
``rejet`` removes the line (or the declaration, or the file) from the tables; an ``avertissement``
keeps the data and only informs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    LIGNE = "ligne"
    DECLARATION = "declaration"
    FICHIER = "fichier"


@dataclass(frozen=True)
class IssueType:
    code: str
    level: Level
    rejects: bool  # False: warning only, the data is kept
    message: str


def _t(code: str, level: Level, rejects: bool, message: str) -> IssueType:
    return IssueType(code, level, rejects, message)


L, D, F = Level.LIGNE, Level.DECLARATION, Level.FICHIER

LIGNE_VIDE = _t("LIGNE_VIDE", L, True, "ligne vide")
LIGNE_MALFORMEE = _t(
    "LIGNE_MALFORMEE", L, True, "ligne illisible : la forme attendue est Sxx.Gxx.xx.xxx,'valeur'"
)
APOSTROPHE_MANQUANTE = _t(
    "APOSTROPHE_MANQUANTE", L, True, "la valeur ne se termine pas par une apostrophe"
)
VALEUR_SANS_APOSTROPHES = _t(
    "VALEUR_SANS_APOSTROPHES", L, False, "valeur non entourée d'apostrophes (acceptée telle quelle)"
)
VALEUR_VIDE = _t("VALEUR_VIDE", L, True, "rubrique vide, interdite par la norme")
RUBRIQUE_INCONNUE = _t("RUBRIQUE_INCONNUE", L, True, "rubrique absente du catalogue de la norme")
LONGUEUR_INVALIDE = _t("LONGUEUR_INVALIDE", L, True, "longueur de la valeur hors des bornes")
FORMAT_INVALIDE = _t("FORMAT_INVALIDE", L, True, "valeur non conforme au format de la rubrique")
DATE_INVALIDE = _t("DATE_INVALIDE", L, True, "date impossible ou mal formée (JJMMAAAA attendu)")
CODE_INCONNU = _t("CODE_INCONNU", L, True, "valeur hors de la liste de codes de la rubrique")
CODE_NON_VERIFIE = _t(
    "CODE_NON_VERIFIE",
    L,
    False,
    "code absent de la norme approchée utilisée pour ce fichier (ancienne norme) : conservé",
)
BLOC_REPETE = _t(
    "BLOC_REPETE", L, False, "bloc répété alors que la norme n'en autorise qu'un (conservé)"
)
BLOC_ORPHELIN = _t("BLOC_ORPHELIN", D, True, "bloc sans son bloc parent : déclaration rejetée")
BLOC_HORS_ORDRE = _t(
    "BLOC_HORS_ORDRE", D, True, "bloc hors de l'ordre de la norme : déclaration rejetée"
)
DECLARATION_INCOMPLETE = _t(
    "DECLARATION_INCOMPLETE",
    D,
    True,
    "déclaration sans bloc Entreprise (S21.G00.06) ou Etablissement (S21.G00.11) : rejetée",
)
ETABLISSEMENT_MULTIPLE = _t(
    "ETABLISSEMENT_MULTIPLE",
    D,
    True,
    "déclaration à plusieurs blocs Entreprise (S21.G00.06) ou Etablissement (S21.G00.11) : "
    "rejetée (une déclaration porte sur un seul établissement ; la ligne est celle du bloc répété)",
)
MOIS_DECLARE_INVALIDE = _t(
    "MOIS_DECLARE_INVALIDE",
    D,
    True,
    "mois principal déclaré (S20.G00.05.005) absent ou invalide : déclaration rejetée",
)
FICHIER_TRONQUE = _t(
    "FICHIER_TRONQUE",
    D,
    True,
    "envoi sans bloc Total (S90.G00.90) : fichier tronqué, dernière déclaration rejetée",
)
HORS_DECLARATION = _t(
    "HORS_DECLARATION", L, True, "ligne en dehors de toute déclaration ou de tout envoi"
)
TOTAL_INCOHERENT = _t(
    "TOTAL_INCOHERENT", L, False, "le total de l'envoi (S90.G00.90) ne correspond pas au contenu"
)
NORME_APPROCHEE = _t("NORME_APPROCHEE", F, False, "version de norme non livrée")
FICHIER_NON_DSN = _t(
    "FICHIER_NON_DSN", F, True, "ce fichier n'est pas une DSN (aucune ligne Sxx.Gxx.xx.xxx)"
)
FICHIER_ILLISIBLE = _t("FICHIER_ILLISIBLE", F, True, "fichier illisible")
# Found once a lot is parsed, against what the warehouse serves (ingest/duplicates.py).
DECLARATION_EN_DOUBLE = _t(
    "DECLARATION_EN_DOUBLE",
    D,
    False,
    "déclaration déjà rangée (même contenu ; valeur : où elle l'est) : non rangée une seconde fois",
)
DECLARATION_CONFLIT = _t(
    "DECLARATION_CONFLIT",
    D,
    True,
    "une autre déclaration est déjà rangée sous ce nom de fichier et cette ligne : rejetée "
    "(renommez le fichier corrigé, ou réingérez le lot qui contient l'original)",
)
# Problems of a whole file found before its lines are read: the file is rejected (``lignes`` is 0,
# its lines are not counted as read) and the other files of the lot are ingested.
FICHIER_INACCESSIBLE = _t("FICHIER_INACCESSIBLE", F, True, "fichier ou dossier impossible à lire")
FICHIER_SPECIAL = _t("FICHIER_SPECIAL", F, True, "pas un fichier ordinaire, non lu")
LIEN_CASSE = _t("LIEN_CASSE", F, True, "lien symbolique cassé, non lu")
NOM_FICHIER_INVALIDE = _t(
    "NOM_FICHIER_INVALIDE",
    F,
    True,
    "nom de fichier qui n'est pas de l'UTF-8 (octets notés \\xNN), renommez le fichier",
)
ARCHIVE_INVALIDE = _t("ARCHIVE_INVALIDE", F, True, "archive illisible")
ARCHIVE_TRONQUEE = _t("ARCHIVE_TRONQUEE", F, True, "archive tronquée")
ARCHIVE_CORROMPUE = _t("ARCHIVE_CORROMPUE", F, True, "archive corrompue")
DECOMPRESSION_EXCESSIVE = _t(
    "DECOMPRESSION_EXCESSIVE",
    F,
    True,
    "contenu décompressé trop volumineux (bombe de décompression probable)",
)
# DSNP3 extracts (ingest/dsnp3.py): a CSV row is a block occurrence.
COLONNES_INVALIDES = _t(
    "COLONNES_INVALIDES", L, True, "nombre de colonnes différent de celui de l'extraction DSNP3"
)
PARENT_INCONNU = _t(
    "PARENT_INCONNU",
    L,
    True,
    "identifiant du bloc parent absent de l'extraction (ou parent rejeté) : ligne écartée",
)
IDENTIFIANT_EN_DOUBLE = _t(
    "IDENTIFIANT_EN_DOUBLE", L, True, "identifiant technique vide ou déjà vu dans ce fichier"
)
EN_TETE_INVALIDE = _t(
    "EN_TETE_INVALIDE", F, True, "ligne d'en-tête différente des colonnes de l'extraction DSNP3"
)
EXTRACTION_INCONNUE = _t(
    "EXTRACTION_INCONNUE",
    F,
    True,
    "fichier qui n'est pas une extraction DSNP3 (champollion_<table>_AAAA-MM-JJ.csv attendu)",
)
HORS_FENETRE = _t(
    "HORS_FENETRE",
    L,
    False,
    "déclaration chargée hors de la fenêtre de l'extraction (du 9 du mois suivant au 9 du "
    "mois d'après) : conservée",
)

ALL = {
    t.code: t
    for t in [
        LIGNE_VIDE,
        LIGNE_MALFORMEE,
        APOSTROPHE_MANQUANTE,
        VALEUR_SANS_APOSTROPHES,
        VALEUR_VIDE,
        RUBRIQUE_INCONNUE,
        LONGUEUR_INVALIDE,
        FORMAT_INVALIDE,
        DATE_INVALIDE,
        CODE_INCONNU,
        CODE_NON_VERIFIE,
        BLOC_REPETE,
        BLOC_ORPHELIN,
        BLOC_HORS_ORDRE,
        DECLARATION_INCOMPLETE,
        ETABLISSEMENT_MULTIPLE,
        MOIS_DECLARE_INVALIDE,
        FICHIER_TRONQUE,
        HORS_DECLARATION,
        TOTAL_INCOHERENT,
        NORME_APPROCHEE,
        FICHIER_NON_DSN,
        FICHIER_ILLISIBLE,
        DECLARATION_EN_DOUBLE,
        DECLARATION_CONFLIT,
        FICHIER_INACCESSIBLE,
        FICHIER_SPECIAL,
        LIEN_CASSE,
        NOM_FICHIER_INVALIDE,
        ARCHIVE_INVALIDE,
        ARCHIVE_TRONQUEE,
        ARCHIVE_CORROMPUE,
        DECOMPRESSION_EXCESSIVE,
        COLONNES_INVALIDES,
        PARENT_INCONNU,
        IDENTIFIANT_EN_DOUBLE,
        EN_TETE_INVALIDE,
        EXTRACTION_INCONNUE,
        HORS_FENETRE,
    ]
}
