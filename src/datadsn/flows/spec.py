"""Declarative flow specs: a YAML file validated by a JSON schema, errors explained in French.

A spec says which population (NAF, geography, companies by SIREN, contract natures), which
indicators and dimensions (or which extract columns), how often, under which disclosure rules,
in which formats and for which habilitation. ``load`` returns a ``FlowSpec`` or raises
``SpecError`` carrying every problem found, one French sentence each.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import adapter

PERIODS = ("mois", "trimestre", "annee")
FORMATS = ("csv", "parquet", "xlsx")
RULE_KEYS = (
    "min_salaries",
    "min_etablissements",
    "min_entreprises",
    "p_pct",
    "dominance_pct",
    "protection_pct",
    "protection_min",
    "k",
    "l",
    "suppression_max_pct",
)

_codes = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}


def _list_of(pattern: str) -> dict[str, Any]:
    return {**_codes, "items": {"type": "string", "pattern": pattern}}


SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "nom", "habilitation", "periodicite", "formats"],
    "properties": {
        "version": {"const": 1},
        "nom": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{1,62}$"},
        "titre": {"type": "string"},
        "description": {"type": "string"},
        "habilitation": {"type": "string", "pattern": r"^H[0-9]+$"},
        "perimetre": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "naf": {
                    **_codes,
                    "items": {"type": "string", "pattern": r"^[0-9]{2}(\.?[0-9A-Z]{0,3})$"},
                },
                "regions": {**_codes, "items": {"type": "string", "pattern": r"^[0-9]{2}$"}},
                "departements": {
                    **_codes,
                    "items": {"type": "string", "pattern": r"^([0-9]{2}|2A|2B|97[0-9])$"},
                },
                "siren": {**_codes, "items": {"type": "string", "pattern": r"^[0-9]{9}$"}},
                "natures_contrat": {
                    **_codes,
                    "items": {"type": "string", "pattern": r"^[0-9]{2}$"},
                },
            },
        },
        "indicateurs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code"],
                "properties": {
                    "code": {"type": "string"},
                    "dimensions": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                },
            },
        },
        "extraction": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "colonnes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "niveau_naf": {"enum": ["naf_section", "naf_a38", "naf_a88"]},
                "niveau_geo": {"enum": ["departement", "region"]},
                "niveau_age": {"enum": ["tranche_age", "tranche_age_large"]},
                "mois": {"type": "integer", "minimum": 1, "maximum": 12},
            },
        },
        "periodicite": {"enum": list(PERIODS)},
        "secret": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: {"type": "number", "minimum": 0} for k in RULE_KEYS},
        },
        "formats": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": list(FORMATS)},
        },
    },
}

_FIELD_NAMES = {
    "version": "la version du format",
    "nom": "le nom du flux",
    "habilitation": "l'habilitation servie",
    "periodicite": "la périodicité",
    "formats": "les formats de sortie",
}


class SpecError(ValueError):
    """Every problem of a spec, in French."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Scope:
    naf: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    siren: tuple[str, ...] = ()
    natures_contrat: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.naf or self.regions or self.departements or self.siren
                    or self.natures_contrat)  # fmt: skip


@dataclass(frozen=True)
class IndicatorRequest:
    code: str
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class ExtractSpec:
    colonnes: tuple[str, ...]
    niveau_naf: str = "naf_section"
    niveau_geo: str = "region"
    niveau_age: str = "tranche_age_large"
    mois: int = 1


@dataclass(frozen=True)
class FlowSpec:
    nom: str
    habilitation: str
    periodicite: str
    formats: tuple[str, ...]
    perimetre: Scope
    indicateurs: tuple[IndicatorRequest, ...] = ()
    extraction: ExtractSpec | None = None
    secret: dict[str, float] = field(default_factory=dict)
    titre: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def digest(self) -> str:
        blob = json.dumps(self.raw, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    @property
    def habilitation_id(self) -> int:
        return int(self.habilitation[1:])


def _where(error: ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"« {path} »" if path else "la racine du fichier"


def _explain(error: ValidationError) -> str:
    where = _where(error)
    v = error.validator
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        label = _FIELD_NAMES.get(missing, f"« {missing} »")
        return f"{where} : champ obligatoire manquant : {label} ({missing})."
    if v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        return f"{where} : champ inconnu {', '.join(extra)} (vérifiez l'orthographe)."
    if v == "const":
        return f"{where} : valeur attendue {error.validator_value!r}."
    if v == "enum":
        allowed = ", ".join(str(x) for x in error.validator_value)
        return f"{where} : valeur {error.instance!r} non permise (valeurs possibles : {allowed})."
    if v == "type":
        kinds = {"string": "un texte", "array": "une liste", "object": "un dictionnaire",
                 "integer": "un entier", "number": "un nombre"}  # fmt: skip
        want = kinds.get(str(error.validator_value), str(error.validator_value))
        return f"{where} : {want} est attendu, pas {error.instance!r}."
    if v == "pattern":
        hints = {
            "nom": "minuscules, chiffres et tirets",
            "habilitation": "la référence du portail, par exemple H12",
            "naf": "un préfixe de code NAF, par exemple 47 ou 47.11",
            "regions": "un code région INSEE à 2 chiffres, par exemple 84",
            "departements": "un code département, par exemple 69, 2A ou 974",
            "siren": "un SIREN à 9 chiffres",
            "natures_contrat": "un code nature de contrat à 2 chiffres (S21.G00.40.007)",
        }
        key = next((str(p) for p in reversed(error.absolute_path) if isinstance(p, str)), "")
        hint = hints.get(key, "format attendu : " + str(error.validator_value))
        return f"{where} : valeur {error.instance!r} mal formée ({hint})."
    if v == "minItems":
        return f"{where} : la liste ne doit pas être vide."
    if v == "maxItems":
        return f"{where} : au plus {error.validator_value} éléments."
    if v == "uniqueItems":
        return f"{where} : la liste contient des doublons."
    if v in ("minimum", "maximum"):
        return f"{where} : valeur {error.instance!r} hors bornes."
    return f"{where} : {error.message}"


def check(data: Any) -> list[str]:
    """Every problem of a parsed spec (schema, then catalogue and rules), empty when valid."""
    if not isinstance(data, dict):
        return ["le fichier doit décrire un dictionnaire YAML (clé : valeur)."]
    validator = Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_explain(e) for e in errors]
    if problems:
        return problems
    if not data.get("indicateurs") and not data.get("extraction"):
        problems.append("le flux doit demander des indicateurs ou une extraction.")
    if data.get("indicateurs") and data.get("extraction"):
        problems.append("un flux livre soit des indicateurs, soit une extraction : séparez-les.")
    period = data["periodicite"]
    for i, item in enumerate(data.get("indicateurs") or []):
        problems += [
            f"« indicateurs.{i} » : {p}"
            for p in adapter.check_indicator(item["code"], item.get("dimensions"), period)
        ]
    extract = data.get("extraction")
    if extract is not None:
        unknown = [c for c in extract.get("colonnes", []) if c not in adapter.EXTRACT_COLUMNS]
        if unknown:
            problems.append(
                f"« extraction.colonnes » : colonne(s) inconnue(s) {', '.join(unknown)} "
                f"(possibles : {', '.join(adapter.EXTRACT_COLUMNS)})."
            )
        if (data.get("perimetre") or {}).get("siren"):
            problems.append(
                "« perimetre.siren » : une extraction ne peut pas être limitée à une liste "
                "d'entreprises (risque de réidentification) ; demandez des indicateurs."
            )
        if set(data["formats"]) - {"csv", "parquet"}:
            problems.append("« formats » : une extraction se livre en csv ou parquet.")
    problems += _check_rules(data.get("secret") or {})
    for dep in (data.get("perimetre") or {}).get("departements", []):
        if dep not in adapter.department_regions():
            problems.append(f"« perimetre.departements » : département inconnu {dep}.")
    for reg in (data.get("perimetre") or {}).get("regions", []):
        if reg not in set(adapter.department_regions().values()):
            problems.append(f"« perimetre.regions » : région inconnue {reg}.")
    return problems


def _check_rules(secret: dict[str, float]) -> list[str]:
    """A flow may tighten the disclosure rules, never loosen them."""
    defaults = adapter.default_rules()
    problems = []
    for key, value in secret.items():
        if key not in defaults:
            problems.append(f"« secret.{key} » : règle inconnue de cette version.")
            continue
        base = defaults[key]
        looser = value > base if key in ("dominance_pct", "suppression_max_pct") else value < base
        if looser:
            problems.append(
                f"« secret.{key} » : {value} est moins protecteur que la règle commune ({base}) ; "
                "un flux peut seulement durcir le secret statistique."
            )
    if "dominance_pct" in secret and not 0 < secret["dominance_pct"] <= 100:
        problems.append("« secret.dominance_pct » : doit être compris entre 0 et 100.")
    return problems


def parse(data: dict[str, Any]) -> FlowSpec:
    problems = check(data)
    if problems:
        raise SpecError(problems)
    scope = data.get("perimetre") or {}
    extract = data.get("extraction")
    return FlowSpec(
        nom=data["nom"],
        habilitation=data["habilitation"],
        periodicite=data["periodicite"],
        formats=tuple(data["formats"]),
        perimetre=Scope(
            naf=tuple(n.replace(".", "").upper() for n in scope.get("naf", [])),
            regions=tuple(scope.get("regions", [])),
            departements=tuple(scope.get("departements", [])),
            siren=tuple(scope.get("siren", [])),
            natures_contrat=tuple(scope.get("natures_contrat", [])),
        ),
        indicateurs=tuple(
            IndicatorRequest(i["code"], tuple(i.get("dimensions") or ()))
            for i in data.get("indicateurs") or []
        ),
        extraction=None
        if extract is None
        else ExtractSpec(
            colonnes=tuple(extract.get("colonnes") or adapter.EXTRACT_COLUMNS),
            niveau_naf=extract.get("niveau_naf", "naf_section"),
            niveau_geo=extract.get("niveau_geo", "region"),
            niveau_age=extract.get("niveau_age", "tranche_age_large"),
            mois=int(extract.get("mois", 1)),
        ),
        secret=dict(data.get("secret") or {}),
        titre=data.get("titre", ""),
        raw=data,
    )


def read_yaml(text: str, source: str = "spécification") -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        raise SpecError([f"{source} : YAML illisible{where}."]) from exc


def load(path: Path) -> FlowSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([f"fichier illisible {path} : {exc.strerror}"]) from exc
    return parse(read_yaml(text, str(path)))
