"""The indicator catalogue: metadata here, one SQL step per indicator in ``sql/indicateurs``.

Each step selects rows of ``ind_base`` (one per poste-mois, its person and contract dimensions as
``d_<name>``; the establishment's are looked up by ``etablissement_id`` when cells are summed, so
a step's filter cannot use them) with a ``numerateur`` and a ``denominateur`` column. The generic
aggregation sums them per cell, weighting each month by how the indicator spans a period:
``somme`` (flows), ``moyenne`` (mean of the months) or ``fin`` (stock at the period's last
month). The value is numerator / denominator times ``echelle`` (or the numerator alone when
there is no denominator).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

SQL = Path(__file__).parent / "sql"

PERIODS = {"mois": "mois", "trimestre": "trimestre", "annee": "année"}

DIMENSIONS: dict[str, str] = {
    "nature_contrat": "nature du contrat (S21.G00.40.007)",
    "motif_recours": "motif de recours du CDD ou de la mission (S21.G00.40.021)",
    "motif_rupture": "motif de fin du contrat (S21.G00.62.002)",
    "sexe": "sexe",
    "tranche_age": "tranche d'âge de 5 ans (âge au mois considéré)",
    "tranche_age_large": "tranche d'âge : moins de 25 ans, 25-49 ans, 50 ans ou plus",
    "naf_section": "section de la NAF rev. 2 de l'établissement (A21)",
    "naf_a38": "niveau A38 de la NAF rev. 2",
    "naf_a88": "division de la NAF rev. 2 (A88)",
    "naf_sous_classe": "sous-classe de la NAF rev. 2 (code APET)",
    "idcc": "convention collective principale de l'établissement (IDCC)",
    "commune": "commune de l'établissement (code INSEE)",
    "departement": "département de l'établissement",
    "region": "région de l'établissement",
    "tranche_effectif": "tranche d'effectif de l'établissement (effectif moyen de la période)",
}

ESTABLISHMENT_DIMS = (
    "naf_section",
    "naf_a38",
    "naf_a88",
    "naf_sous_classe",
    "idcc",
    "commune",
    "departement",
    "region",
    "tranche_effectif",
)
PERSON_DIMS = ("nature_contrat", "sexe", "tranche_age", "tranche_age_large")
ALL_DIMS = PERSON_DIMS + ESTABLISHMENT_DIMS

COUNT_UNITS = ("postes", "contrats")
AMOUNT_UNITS = ("euros", "heures", "ETP")
SOURCES = ("contrats", "contrats_mois", "activites", "salaries", "etablissements")


@dataclass(frozen=True)
class Indicator:
    code: str
    titre: str
    definition: str
    unite: str
    dimensions: tuple[str, ...]
    agregation: str  # numerator over a period: somme | moyenne | fin
    agregation_denominateur: str | None = None
    echelle: float = 1.0
    par_defaut: tuple[str, ...] = ()
    part_selon: str | None = None  # value = share of the cell in its margin along this dim
    periodicite: tuple[str, ...] = ("mois", "trimestre", "annee")
    sources: tuple[str, ...] = SOURCES
    precautions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sql_path(self) -> Path:
        return SQL / "indicateurs" / f"{self.code.lower()}.sql"

    @property
    def sql(self) -> str:
        return self.sql_path.read_text(encoding="utf-8")

    @property
    def counts(self) -> bool:
        """The additive quantity counts units (the protection level has a floor of one unit)."""
        return self.unite in COUNT_UNITS and self.agregation != "moyenne"

    @property
    def amounts(self) -> bool:
        """The numerator is an amount (euros, hours): the p % rule applies to it."""
        return self.unite in AMOUNT_UNITS

    @property
    def additif(self) -> bool:
        """Published values add up along margins (a linear attack on masked cells applies)."""
        return self.agregation_denominateur is None and self.part_selon is None


_INTERIM = (
    "Les missions d'intérim sont comptées dans l'entreprise de travail temporaire (NAF 7820Z), "
    "pas chez l'utilisateur."
)
_POSTES = "Unité de compte : le poste (contrat) ; un salarié multi-employeur compte plusieurs fois."
_FINS = (
    "Une fin sans bloc de fin n'est connue qu'après 3 mois sans déclaration (fin déduite) : les "
    "trois derniers mois sont provisoires."
)

CATALOGUE: tuple[Indicator, ...] = (
    Indicator(
        "EFF_FIN",
        "Effectif salarié en fin de mois",
        "Nombre de postes (contrats) en cours le dernier jour du mois ; pour un trimestre ou une "
        "année, au dernier mois de la période.",
        "postes",
        ALL_DIMS,
        "fin",
        par_defaut=("naf_section",),
        precautions=(_POSTES, _INTERIM),
    ),
    Indicator(
        "EFF_MOY",
        "Effectif salarié mensuel moyen",
        "Somme, sur les jours du mois, des postes en cours divisée par le nombre de jours ; "
        "moyenne des mois pour un trimestre ou une année.",
        "postes",
        ALL_DIMS,
        "moyenne",
        par_defaut=("naf_section",),
        precautions=(_POSTES, _INTERIM),
    ),
    Indicator(
        "ETP_HEURES",
        "Équivalents temps plein (heures)",
        "Heures rémunérées déclarées (hors heures supplémentaires) divisées par 151,67 heures ; "
        "moyenne mensuelle sur la période.",
        "ETP",
        ALL_DIMS,
        "moyenne",
        par_defaut=("naf_section",),
        precautions=(
            "Dépend de la qualité des heures déclarées (rémunérations 002, 017, 018).",
            _INTERIM,
        ),
    ),
    Indicator(
        "ETP_QUOTITE",
        "Équivalents temps plein (quotité)",
        "Quotité du contrat rapportée au temps plein légal (151,67 h par mois, 1 607 h ou 218 "
        "jours par an), au prorata des jours en cours ; moyenne mensuelle sur la période.",
        "ETP",
        ALL_DIMS,
        "moyenne",
        par_defaut=("naf_section",),
        precautions=(
            "La quotité de référence de l'entreprise (S21.G00.40.012) n'est pas utilisée : le "
            "temps plein légal la remplace. Unités autres qu'heure, forfait heures ou forfait "
            "jours exclues.",
            _INTERIM,
        ),
    ),
    Indicator(
        "EMBAUCHES",
        "Embauches",
        "Nombre de contrats dont la date de début tombe dans la période.",
        "contrats",
        (*ALL_DIMS, "motif_recours"),
        "somme",
        par_defaut=("nature_contrat",),
        precautions=(_INTERIM,),
    ),
    Indicator(
        "FINS_CONTRAT",
        "Fins de contrat",
        "Nombre de contrats dont la date de fin effective (déclarée ou déduite) tombe dans la "
        "période, par motif de rupture.",
        "contrats",
        (*ALL_DIMS, "motif_rupture"),
        "somme",
        par_defaut=("motif_rupture",),
        precautions=(_FINS, _INTERIM),
    ),
    Indicator(
        "TAUX_ROTATION",
        "Taux de rotation",
        "Demi-somme des embauches et des fins de contrat de la période rapportée à l'effectif "
        "moyen de la période, en pourcentage.",
        "%",
        ALL_DIMS,
        "somme",
        agregation_denominateur="moyenne",
        echelle=100.0,
        par_defaut=("naf_section",),
        precautions=(_FINS, _INTERIM),
    ),
    Indicator(
        "PART_CDD_COURTS",
        "Part des CDD courts dans les embauches en CDD",
        "Embauches en CDD (nature 02) dont la durée prévue (date de fin prévisionnelle) est "
        "inférieure à un mois, en pourcentage des embauches en CDD.",
        "%",
        tuple(d for d in ALL_DIMS if d != "nature_contrat"),
        "somme",
        agregation_denominateur="somme",
        echelle=100.0,
        par_defaut=("naf_section",),
        precautions=("Un CDD sans date de fin prévisionnelle n'est pas compté comme court.",),
    ),
    Indicator(
        "RECOURS_INTERIM",
        "Recours à l'intérim",
        "ETP des missions d'intérim réalisées dans l'établissement utilisateur (heures / 151,67) "
        "divisés par l'effectif moyen de ses salariés propres, en pourcentage.",
        "%",
        ESTABLISHMENT_DIMS,
        "somme",
        agregation_denominateur="somme",
        echelle=100.0,
        par_defaut=("naf_section",),
        precautions=(
            "Seules les missions dont l'établissement utilisateur est déclaré (S21.G00.40.019) et "
            "connu de la base sont rattachées.",
        ),
    ),
    Indicator(
        "HEURES",
        "Heures rémunérées",
        "Heures rémunérées déclarées hors heures supplémentaires, réparties par mois civil.",
        "heures",
        ALL_DIMS,
        "somme",
        par_defaut=("naf_section",),
        precautions=(_INTERIM,),
    ),
    Indicator(
        "HEURES_SUPP",
        "Heures supplémentaires",
        "Heures supplémentaires ou complémentaires rémunérées.",
        "heures",
        ALL_DIMS,
        "somme",
        par_defaut=("naf_section",),
        precautions=(_INTERIM,),
    ),
    Indicator(
        "MASSE_SALARIALE",
        "Masse salariale brute",
        "Somme des rémunérations brutes non plafonnées (S21.G00.51, type 001) de la période.",
        "euros",
        ALL_DIMS,
        "somme",
        par_defaut=("naf_section",),
        precautions=(_INTERIM,),
    ),
    Indicator(
        "SALAIRE_MOYEN",
        "Salaire brut mensuel moyen par poste",
        "Masse salariale brute de la période divisée par la somme des effectifs moyens mensuels "
        "(postes au prorata des jours en cours).",
        "euros par mois",
        ALL_DIMS,
        "somme",
        agregation_denominateur="somme",
        par_defaut=("naf_section",),
        precautions=(_POSTES, _INTERIM),
    ),
    Indicator(
        "PYRAMIDE_AGES",
        "Pyramide des âges",
        "Postes en cours le dernier jour de la période par tranche d'âge de 5 ans et sexe.",
        "postes",
        ALL_DIMS,
        "fin",
        par_defaut=("tranche_age", "sexe"),
        precautions=(_POSTES,),
    ),
    Indicator(
        "REPARTITION_CONTRATS",
        "Répartition des postes par nature de contrat",
        "Part de chaque nature de contrat dans les postes en cours le dernier jour de la période, "
        "en pourcentage.",
        "%",
        ALL_DIMS,
        "fin",
        echelle=100.0,
        par_defaut=("nature_contrat",),
        part_selon="nature_contrat",
        precautions=(_POSTES, _INTERIM),
    ),
)

BY_CODE = {ind.code: ind for ind in CATALOGUE}


class UnknownIndicator(KeyError):
    pass


def get(code: str) -> Indicator:
    try:
        return BY_CODE[code.upper()]
    except KeyError:
        raise UnknownIndicator(
            f"indicateur inconnu : {code} (voir `datadsn indicators list`)"
        ) from None


def _numerator(indicator: Indicator) -> tuple[str, str]:
    lines = indicator.sql.splitlines()
    return "\n".join(
        x for x in lines if not x.lstrip().startswith("--")
    ).strip(), indicator.agregation


@functools.cache
def measure(code: str) -> str:
    """The quantity an indicator's cells count, named by the first indicator of the catalogue
    with the same numerator (SQL step and aggregation): EFF_FIN, PYRAMIDE_AGES and the numerator
    of REPARTITION_CONTRATS are the same postes, so a cell masked in one is masked in all."""
    indicator = BY_CODE.get(code)
    if indicator is None:
        return code
    target = _numerator(indicator)
    return next(i.code for i in CATALOGUE if _numerator(i) == target)


def same_measure(code: str) -> list[str]:
    """The codes of the indicators counting the same quantity as ``code`` (itself included)."""
    return sorted({code, *(i.code for i in CATALOGUE if measure(i.code) == measure(code))})
