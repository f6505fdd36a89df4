"""The template gallery: YAML specs shipped in ``flows/templates`` with placeholders.

``instantiate`` fills a template from a habilitation's frozen scope: its reference, the region
or départements of its territory, the SIRENs of its population, and keeps only the indicators
the habilitation grants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import adapter
from .habilitation import HabInfo

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    text: str


def templates() -> list[Template]:
    out = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        comment = " ".join(
            line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")
        )
        data = yaml.safe_load(text.replace("__", "x"))
        out.append(Template(path.stem, str(data.get("titre", path.stem)), comment, text))
    return out


def get_template(name: str) -> Template:
    for t in templates():
        if t.name == name:
            return t
    names = ", ".join(t.name for t in templates())
    raise LookupError(f"modèle inconnu : {name} (modèles disponibles : {names})")


def instantiate(template: Template, hab: HabInfo) -> tuple[str, dict[str, Any]]:
    """The spec text for ``hab`` and its parsed content (validate it before use)."""
    scope = hab.scope
    extraction = scope.get("extraction") or {}
    territory = str(extraction.get("territoire") or "")
    codes = re.findall(r"\b(?:2A|2B|97\d|\d{2})\b", territory)
    regions = set(adapter.department_regions().values())
    region = next((c for c in codes if c in regions), "")
    sirens = re.findall(r"\b\d{9}\b", str(extraction.get("population") or ""))
    data = yaml.safe_load(template.text.replace("[__", "['__").replace("__]", "__']"))
    data["habilitation"] = hab.reference
    perimetre = data.get("perimetre") or {}
    if "regions" in perimetre:
        if region:
            perimetre["regions"] = [region]
        else:
            departements = [c for c in codes if c in adapter.department_regions()]
            perimetre.pop("regions")
            if departements:
                perimetre["departements"] = departements
    if "siren" in perimetre:
        perimetre["siren"] = sirens
    if "naf" in perimetre:
        naf = re.findall(r"\b\d{2}(?:\.\d{1,2}[A-Z]?)?\b", str(extraction.get("population") or ""))
        perimetre["naf"] = naf
    # The structured limits of the habilitation always carry over.
    if extraction.get("naf"):
        perimetre["naf"] = list(extraction["naf"])
    if extraction.get("natures_contrat"):
        perimetre["natures_contrat"] = list(extraction["natures_contrat"])
    for key in [k for k, v in perimetre.items() if v == []]:
        perimetre.pop(key)
    if perimetre:
        data["perimetre"] = perimetre
    else:
        data.pop("perimetre", None)
    granted = set(scope.get("indicateurs") or [])
    if "indicateurs" in data:
        kept = [i for i in data["indicateurs"] if i["code"] in granted]
        data["indicateurs"] = kept or data["indicateurs"]
    header = "\n".join(line for line in template.text.splitlines() if line.startswith("#"))
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return (
        f"{header}\n# Créé depuis le modèle « {template.name} » pour {hab.reference}.\n{body}",
        data,
    )
