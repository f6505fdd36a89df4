"""Static reference content: the indicator catalogue and the data dictionary built from ``datadsn.norm``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

NORM_VERSION = "P26V01"


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    definition: str
    unit: str
    dimensions: str
    source: str
    precautions: tuple[str, ...] = ()


# Used only if the indicator package (datadsn.indicators) cannot be imported.
FALLBACK_INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "effectifs_fin_mois",
        "Effectifs salariés en fin de mois",
        "Nombre de contrats de travail actifs le dernier jour du mois, un salarié comptant autant de fois "
        "qu'il a de contrats (hors stagiaires et contrats de mise à disposition).",
        "contrats",
        "établissement, secteur (APE), zone d'emploi, sexe, tranche d'âge, nature de contrat",
        "Blocs Contrat (S21.G00.40) et Fin du contrat (S21.G00.62)",
    ),
    Indicator(
        "embauches",
        "Embauches",
        "Nombre de contrats dont la date de début tombe dans le mois, hors renouvellements et "
        "changements internes signalés par un bloc de changement.",
        "contrats",
        "établissement, secteur, zone d'emploi, nature de contrat, durée prévue",
        "Bloc Contrat (S21.G00.40)",
    ),
    Indicator(
        "fins_contrat",
        "Fins de contrat par motif",
        "Nombre de contrats terminés dans le mois, ventilés par motif de rupture (démission, fin de CDD, "
        "rupture conventionnelle, licenciement…).",
        "contrats",
        "établissement, secteur, motif de rupture",
        "Bloc Fin du contrat (S21.G00.62)",
    ),
    Indicator(
        "heures_remunerees",
        "Heures rémunérées",
        "Somme des heures rémunérées déclarées sur le mois, en équivalent temps plein.",
        "heures, ETP",
        "établissement, secteur, quotité",
        "Bloc Activité (S21.G00.53)",
    ),
    Indicator(
        "salaire_brut_median",
        "Salaire brut mensuel médian",
        "Médiane du salaire de base brut des contrats actifs toute la période, en euros courants, "
        "publiée seulement au-dessus des seuils de secret statistique.",
        "euros",
        "secteur, sexe, tranche d'âge, catégorie socioprofessionnelle",
        "Bloc Rémunération (S21.G00.51)",
    ),
    Indicator(
        "taux_rotation",
        "Taux de rotation de la main-d'œuvre",
        "Moyenne des entrées et des sorties du mois rapportée à l'effectif moyen.",
        "pour cent",
        "établissement, secteur, zone d'emploi",
        "Blocs Contrat et Fin du contrat",
    ),
    Indicator(
        "arrets_travail",
        "Arrêts de travail",
        "Nombre de salariés ayant au moins un arrêt (maladie, accident du travail, maternité) dans le mois.",
        "salariés",
        "secteur, motif d'arrêt",
        "Bloc Arrêt de travail (S21.G00.60)",
    ),
)


def _from_indicator_package() -> tuple[Indicator, ...]:
    """The indicator catalogue maintained with the SQL steps that compute the indicators."""
    try:
        from datadsn.indicators.catalogue import CATALOGUE, DIMENSIONS
    except ImportError:
        return FALLBACK_INDICATORS
    return tuple(
        Indicator(
            code=i.code,
            name=i.titre,
            definition=i.definition,
            unit=i.unite,
            dimensions=", ".join(DIMENSIONS.get(d, d) for d in i.dimensions),
            source=", ".join(i.sources),
            precautions=tuple(i.precautions),
        )
        for i in CATALOGUE
    )


INDICATORS: tuple[Indicator, ...] = _from_indicator_package()
INDICATOR_CHOICES = [(i.code, i.name) for i in INDICATORS]
INDICATOR_NAMES = {i.code: i.name for i in INDICATORS}


@lru_cache(maxsize=1)
def dictionary() -> dict[str, Any]:
    """Blocks in norm order with their rubriques and code lists."""
    from datadsn.norm import load_norm

    norm = load_norm(NORM_VERSION)
    by_block: dict[str, list[Any]] = {}
    for rub in norm.rubriques.values():
        by_block.setdefault(rub.block, []).append(rub)
    blocks = sorted(norm.blocks.values(), key=lambda b: b.order)
    return {
        "version": NORM_VERSION,
        "blocks": blocks,
        "by_id": {b.id: b for b in blocks},
        "rubriques": {k: sorted(v, key=lambda r: r.id) for k, v in by_block.items()},
        "children": {b.id: [c for c in blocks if c.parent == b.id] for b in blocks},
    }
