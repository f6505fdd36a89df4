"""Small weighted referentials (NAF, IDCC, communes, names, jobs) for the synthetic economy.

Weights are rough shares of private-sector employment in France; they only need to give
plausible mixes, not exact statistics. Localities carry no accents nor hyphens because the
norm restricts 'Localité' to ``[A-Za-z0-9\\s]+``.
"""

from __future__ import annotations

import numpy as np

TEMP_AGENCY_NAF = "7820Z"

# (NAF code, weight, IDCC, label used for company names)
NAF = [
    ("4711D", 6, "2216", "SUPERMARCHE"),
    ("5610A", 8, "1979", "RESTAURANT"),
    ("4120A", 6, "1597", "CONSTRUCTION"),
    ("4321A", 5, "1597", "ELECTRICITE"),
    ("4322A", 4, "1597", "PLOMBERIE"),
    ("4520A", 3, "1090", "GARAGE"),
    ("4771Z", 4, "1483", "BOUTIQUE"),
    ("4941A", 4, "0016", "TRANSPORTS"),
    ("5210B", 2, "0016", "ENTREPOTS"),
    ("6201Z", 4, "1486", "INFORMATIQUE"),
    ("6920Z", 3, "0787", "CABINET COMPTABLE"),
    ("7112B", 3, "1486", "INGENIERIE"),
    ("8121Z", 4, "3043", "PROPRETE"),
    ("8610Z", 5, "2264", "CLINIQUE"),
    ("8710A", 4, "2264", "EHPAD"),
    ("8810A", 3, "2941", "AIDE A DOMICILE"),
    ("1071C", 3, "0843", "BOULANGERIE"),
    ("2511Z", 2, "3248", "METALLURGIE"),
    ("2562B", 2, "3248", "MECANIQUE"),
    ("1013A", 2, "1586", "CHARCUTERIE"),
    ("4690Z", 3, "0573", "COMMERCE DE GROS"),
    ("9602A", 3, "2596", "COIFFURE"),
    ("5510Z", 2, "1979", "HOTEL"),
    ("6420Z", 1, "1486", "HOLDING"),
    ("8559A", 2, "1516", "FORMATION"),
    ("7022Z", 3, "1486", "CONSEIL"),
]

# Temp agencies use the IDCC of the 'personnel permanent des ETT'.
TEMP_AGENCY_IDCC = "1413"

# (INSEE commune, postal code, locality, departement, weight)
COMMUNES = [
    ("75056", "75011", "PARIS", "75", 20),
    ("13055", "13001", "MARSEILLE", "13", 8),
    ("69123", "69003", "LYON", "69", 7),
    ("31555", "31000", "TOULOUSE", "31", 5),
    ("06088", "06000", "NICE", "06", 3),
    ("44109", "44000", "NANTES", "44", 4),
    ("67482", "67000", "STRASBOURG", "67", 3),
    ("34172", "34000", "MONTPELLIER", "34", 3),
    ("33063", "33000", "BORDEAUX", "33", 4),
    ("59350", "59000", "LILLE", "59", 4),
    ("35238", "35000", "RENNES", "35", 3),
    ("51454", "51100", "REIMS", "51", 2),
    ("42218", "42000", "SAINT ETIENNE", "42", 2),
    ("76351", "76600", "LE HAVRE", "76", 2),
    ("38185", "38000", "GRENOBLE", "38", 2),
    ("21231", "21000", "DIJON", "21", 2),
    ("49007", "49000", "ANGERS", "49", 2),
    ("37261", "37000", "TOURS", "37", 2),
    ("63113", "63000", "CLERMONT FERRAND", "63", 2),
    ("87085", "87000", "LIMOGES", "87", 1),
    ("2A004", "20000", "AJACCIO", "2A", 1),
    ("97411", "97400", "SAINT DENIS", "974", 1),
    ("29019", "29200", "BREST", "29", 1),
    ("64445", "64000", "PAU", "64", 1),
    ("72181", "72000", "LE MANS", "72", 1),
    ("80021", "80000", "AMIENS", "80", 1),
    ("57463", "57000", "METZ", "57", 1),
    ("14118", "14000", "CAEN", "14", 1),
    ("45234", "45000", "ORLEANS", "45", 1),
    ("01053", "01000", "BOURG EN BRESSE", "01", 1),
    ("24322", "24000", "PERIGUEUX", "24", 1),
    ("12202", "12000", "RODEZ", "12", 1),
]

STREETS = [
    "RUE DE L'ÉGLISE",
    "AVENUE DE LA RÉPUBLIQUE",
    "RUE JEAN JAURÈS",
    "BOULEVARD GAMBETTA",
    "RUE DES ÉCOLES",
    "CHEMIN DU MOULIN",
    "RUE PASTEUR",
    "PLACE DE L'HÔTEL DE VILLE",
    "RUE VICTOR HUGO",
    "ALLÉE DES CHÊNES",
    "ZONE ARTISANALE DES PRÉS",
    "RUE DU GÉNÉRAL DE GAULLE",
]

SURNAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
    "MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID",
    "BERTRAND", "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE",
    "ROUSSEAU", "VINCENT", "MÜLLER", "FRANÇOIS", "MERCIER", "GARNIER", "CHEVALIER",
    "D'ALMEIDA", "N'DIAYE", "DA SILVA", "BOUCHER", "HÉBERT", "GAUTHIER", "PERRIN",
    "NGUYEN", "BENSAÏD", "TRAORÉ", "LE GOFF", "O'NEILL", "CÔTÉ", "PÉREZ", "GARCIA",
    "RENAUD", "DESCHAMPS", "BRUNET", "MARCHAND",
]  # fmt: skip

FIRST_NAMES_M = [
    "JEAN", "PIERRE", "MICHEL", "ANDRÉ", "PHILIPPE", "NICOLAS", "THOMAS", "LUCAS",
    "HUGO", "KARIM", "MOHAMED", "JÉRÔME", "FRANÇOIS", "STÉPHANE", "LOÏC", "JEAN-MARC",
    "NOÉ", "GAËL", "ANTOINE", "JULIEN",
]  # fmt: skip

FIRST_NAMES_F = [
    "MARIE", "NATHALIE", "ISABELLE", "SYLVIE", "CATHERINE", "ÉMILIE", "CHLOÉ", "LÉA",
    "CAMILLE", "INÈS", "FATIMA", "AMÉLIE", "HÉLÈNE", "CÉLINE", "MAËLLE", "ZOÉ",
    "SOPHIE", "JULIE", "MANON", "ANNE-LAURE",
]  # fmt: skip

# (PCS-ESE code, job label, statut conventionnel 40.002, cadre flag)
JOBS = [
    ("389A", "INGÉNIEUR D'ÉTUDES", "04", True),
    ("372C", "RESPONSABLE COMMERCIAL", "04", True),
    ("461D", "TECHNICIEN ADMINISTRATIF", "05", False),
    ("477A", "TECHNICIEN D'ENTRETIEN", "05", False),
    ("543D", "EMPLOYÉ ADMINISTRATIF", "06", False),
    ("554A", "VENDEUR", "06", False),
    ("561A", "SERVEUR", "06", False),
    ("563B", "AIDE À DOMICILE", "06", False),
    ("526A", "AIDE-SOIGNANT", "06", False),
    ("684A", "AGENT D'ENTRETIEN", "07", False),
    ("621A", "OUVRIER QUALIFIÉ DU BÂTIMENT", "07", False),
    ("641A", "CONDUCTEUR ROUTIER", "07", False),
    ("676A", "MANUTENTIONNAIRE", "07", False),
    ("636D", "CUISINIER", "07", False),
    ("625A", "OPÉRATEUR DE PRODUCTION", "07", False),
]


def weights(values: list[float]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()
