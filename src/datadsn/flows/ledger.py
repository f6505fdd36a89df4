"""The populations already delivered, so that no new one can be differenced with them.

Two tables on populations whose difference lies in one or two enterprises give, by
subtraction, those enterprises' own figures (a list of SIRENs with one company more, a NAF sector
holding a single company more in the région, all contracts against CDI only where a single
company has others). Every delivered table flow records its population here — per enterprise
(SIREN) with a poste-mois in it over the window, its number of contracts; and the definition of
its scope — in ``<warehouse>/deliveries/populations.jsonl``, across every habilitation:
recipients may share what they hold.

The enterprises a difference between two populations falls on are those whose contracts differ
(an enterprise in one only, or with more contracts in one). A new population is refused when it
has fewer than ``min_entreprises`` enterprises, or when its difference with a population of
another scope delivered over an overlapping window falls on at least one and fewer than
``min_entreprises`` enterprises. Populations of the same scope are the same definition: their
figures add up the same way whatever the churn. A habilitation granted unit-level data
(``donnees_unitaires`` on its frozen scope) is exempt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEDGER = "populations.jsonl"
UNIT_LEVEL = "donnees_unitaires"  # set only by the chair's decision (portal services.decide)
UNIT_LEVEL_REASON = "donnees_unitaires_motif"


@dataclass
class Population:
    habilitation: str
    flux: str
    mois: str
    du: str
    au: str
    perimetre: str  # the scope's canonical JSON
    entreprises: dict[str, int]  # SIREN -> contracts in the population over the window

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "habilitation": self.habilitation,
            "flux": self.flux,
            "mois": self.mois,
            "du": self.du,
            "au": self.au,
            "perimetre": self.perimetre,
            "nb_entreprises": len(self.entreprises),
            "entreprises": dict(sorted(self.entreprises.items())),
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


def scope_key(perimetre: dict[str, Any]) -> str:
    return json.dumps(perimetre or {}, ensure_ascii=False, sort_keys=True)


def _entries(root: Path) -> Iterator[dict[str, Any]]:
    path = root / LEDGER
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def problems(root: Path, new: Population, min_units: int) -> list[str]:
    """Why ``new`` may not be delivered (in French); empty when it may."""
    if len(new.entreprises) < min_units:
        return [
            f"la population compte {len(new.entreprises)} entreprise(s), moins que le minimum "
            f"de {min_units} : ses chiffres seraient ceux d'entreprises identifiées (sauf "
            "habilitation aux données unitaires)."
        ]
    for entry in _entries(root):
        if entry["perimetre"] == new.perimetre or entry["au"] < new.du or new.au < entry["du"]:
            continue
        diff = len(differing(new.entreprises, entry["entreprises"]))
        if 0 < diff < min_units:
            return [
                f"la population ne diffère que sur {diff} entreprise(s) de celle du flux "
                f"{entry['flux']} livré pour {entry['mois']} (habilitation "
                f"{entry['habilitation']}) : la différence des deux livraisons donnerait les "
                f"chiffres de ces entreprises (minimum {min_units})."
            ]
    return []


def differing(a: dict[str, int], b: dict[str, int]) -> set[str]:
    """The enterprises the difference of two populations falls on."""
    return {e for e in a.keys() | b.keys() if a.get(e, 0) != b.get(e, 0)}


def record(root: Path, new: Population) -> None:
    """Append ``new`` (once: a re-run of the same delivery with the same population is kept)."""
    line = new.to_json()
    for entry in _entries(root):
        if json.dumps(entry, ensure_ascii=False, sort_keys=True) == line:
            return
    root.mkdir(parents=True, exist_ok=True)
    with (root / LEDGER).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
