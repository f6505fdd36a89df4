"""A flow serves one approved habilitation and stays inside its frozen scope.

``HabInfo`` is a plain copy of what the portal froze (no Django needed to check a spec);
``portal_habilitation`` reads it from the portal database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import adapter
from .spec import FlowSpec

# Periodicities a habilitation's frequency allows.
ALLOWED_PERIODS = {
    "mensuelle": ("mois", "trimestre", "annee"),
    "trimestrielle": ("trimestre", "annee"),
    "annuelle": ("annee",),
    "ponctuelle": ("mois", "trimestre", "annee"),
}


@dataclass(frozen=True)
class HabInfo:
    reference: str
    organisation: str
    siret: str
    status: str  # active | renouvelee | revoquee
    request_approved: bool
    start: date
    end: date
    scope: dict[str, Any] = field(default_factory=dict)

    def usable(self, today: date | None = None) -> list[str]:
        today = today or date.today()
        problems = []
        if not self.request_approved:
            problems.append(f"la demande de l'habilitation {self.reference} n'est pas acceptée.")
        if self.status != "active":
            problems.append(f"l'habilitation {self.reference} n'est plus active ({self.status}).")
        if today > self.end:
            problems.append(
                f"l'habilitation {self.reference} a expiré le {self.end:%d/%m/%Y} : "
                "plus aucune livraison n'est possible."
            )
        if today < self.start:
            problems.append(
                f"l'habilitation {self.reference} ne commence que le {self.start:%d/%m/%Y}."
            )
        return problems


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\b(?:2A|2B|97\d|\d{2})\b", text or "", flags=re.IGNORECASE))


def check_scope(spec: FlowSpec, hab: HabInfo) -> list[str]:
    """Why the spec goes beyond the habilitation's frozen scope (empty when it stays inside)."""
    problems: list[str] = []
    if spec.habilitation != hab.reference:
        problems.append(f"le flux sert {spec.habilitation}, pas {hab.reference}.")
    scope = hab.scope
    granted = set(scope.get("indicateurs") or [])
    for item in spec.indicateurs:
        if item.code not in granted:
            problems.append(
                f"l'indicateur {item.code} n'est pas dans le périmètre de {hab.reference} "
                f"(accordés : {', '.join(sorted(granted)) or 'aucun'})."
            )
    extraction = scope.get("extraction") or {}
    if spec.extraction is not None and not (extraction.get("population") or "").strip():
        problems.append(f"{hab.reference} n'autorise pas d'extraction de données individuelles.")
    frequency = scope.get("frequence") or "ponctuelle"
    if spec.periodicite not in ALLOWED_PERIODS.get(frequency, ()):
        problems.append(
            f"périodicité « {spec.periodicite} » plus fréquente que la fréquence accordée "
            f"(« {frequency} »)."
        )
    # Territory: when the request named one, the flow must stay inside it.
    territory = extraction.get("territoire") or ""
    codes = {c.upper() for c in _tokens(territory)}
    regions = adapter.department_regions()
    p = spec.perimetre
    if codes:
        if not (p.regions or p.departements):
            problems.append(
                f"le territoire accordé est « {territory} » : limitez « perimetre » à ses "
                "régions ou départements."
            )
        for reg in p.regions:
            if reg not in codes:
                problems.append(f"la région {reg} est hors du territoire accordé « {territory} ».")
        for dep in p.departements:
            if dep not in codes and regions.get(dep) not in codes:
                problems.append(
                    f"le département {dep} est hors du territoire accordé « {territory} »."
                )
    # Sectors and contract natures: when the request limited them, the flow stays inside.
    granted_naf = [str(c) for c in extraction.get("naf") or []]
    if granted_naf:
        if not p.naf:
            problems.append(
                f"les secteurs accordés sont {', '.join(granted_naf)} : limitez « perimetre.naf »."
            )
        for code in p.naf:
            if not any(code.replace(".", "").startswith(g.replace(".", "")) for g in granted_naf):
                problems.append(
                    f"le secteur NAF {code} est hors des secteurs accordés "
                    f"({', '.join(granted_naf)})."
                )
    granted_natures = {str(c) for c in extraction.get("natures_contrat") or []}
    if granted_natures:
        if not p.natures_contrat:
            problems.append(
                f"les natures de contrat accordées sont {', '.join(sorted(granted_natures))} : "
                "limitez « perimetre.natures_contrat »."
            )
        for nature in p.natures_contrat:
            if nature not in granted_natures:
                problems.append(f"la nature de contrat {nature} n'est pas accordée.")
    # Companies: when the request listed SIRENs, the flow may only use those.
    population = extraction.get("population") or ""
    sirens = set(re.findall(r"\b\d{9}\b", population))
    if sirens:
        if not p.siren:
            problems.append(
                "la demande porte sur une liste d'entreprises : renseignez « perimetre.siren »."
            )
        for siren in p.siren:
            if siren not in sirens:
                problems.append(f"le SIREN {siren} ne figure pas dans la population accordée.")
    return problems


def from_portal(hab: Any) -> HabInfo:
    """Copy a portal ``Habilitation`` row."""
    return HabInfo(
        reference=hab.reference,
        organisation=hab.organisation.name,
        siret=hab.organisation.siret,
        status=hab.status,
        request_approved=hab.request.state == "acceptee",
        start=hab.start_date,
        end=hab.end_date,
        scope=dict(hab.scope),
    )


def portal_habilitation(reference: str) -> HabInfo:
    """Read a habilitation from the portal database (Django is set up on first use)."""
    from django.apps import apps

    if not apps.ready:
        from datadsn.portal.bootstrap import setup_django

        setup_django()
    from datadsn.portal.models import Habilitation

    match = re.fullmatch(r"H?(\d+)", reference.strip(), flags=re.IGNORECASE)
    if not match:
        raise LookupError(f"référence d'habilitation invalide : {reference!r} (par exemple H12)")
    row = (
        Habilitation.objects.select_related("organisation", "request")
        .filter(pk=int(match.group(1)))
        .first()
    )
    if row is None:
        raise LookupError(f"habilitation {reference} introuvable dans le portail.")
    return from_portal(row)
