"""Disclosure rules of a release, configurable per use case (a TOML file).

Defaults follow INSEE practice for DSN tables at the place of work (Base Tous Salariés): at
least 5 employees, 3 establishments and 3 enterprises (SIREN) per cell, no establishment and no
enterprise above 85 % of a cell's sum (NK(1, 85)). Amounts (euros, hours, ETP) also follow the
p % rule on enterprises with p = 10: a cell is sensitive when its total minus its two largest
enterprise contributions is below 10 % of the largest, i.e. when the second largest enterprise
could estimate the largest one's amount within 10 %.
The protection level asks that every masked primary cell can only be bracketed, from everything
published, in an interval at least ``max(protection_pct % of its value, protection_min)`` wide:
by default max(10 %, 3), for counts (postes, contrats) and amounts (euros, hours) alike, so that a
masked 2 is not pinned to [2, 3].

    [secret]
    min_salaries = 5
    min_etablissements = 3
    min_entreprises = 3
    dominance_pct = 85
    p_pct = 10
    protection_pct = 10
    protection_min = 3

    [extrait]
    k = 5
    l = 2
    suppression_max_pct = 5
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class Rules:
    min_salaries: int = 5
    min_etablissements: int = 3
    min_entreprises: int = 3
    dominance_pct: float = 85.0
    p_pct: float = 10.0  # p % rule on enterprises, for amounts
    # False only for a habilitation granted unit-level data (``donnees_unitaires`` on its
    # scope): the enterprise rules (count, dominance, p %) are then lifted, not the others.
    secret_entreprises: bool = True
    protection_pct: float = 10.0
    protection_min: float = 3.0
    k: int = 5
    l: int = 2  # noqa: E741 - the usual name of l-diversity
    suppression_max_pct: float = 5.0  # extracts: at most this share of persons dropped

    def protection(self, value: float, counts: bool = True) -> float:
        """The narrowest interval a masked cell of ``value`` may be bracketed in (``counts``
        is kept for callers: the floor applies to amounts too)."""
        return max(abs(value) * self.protection_pct / 100.0, self.protection_min)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RulesError(f"règles inconnues : {', '.join(sorted(unknown))}")
        return cls(**data)

    @classmethod
    def load(cls, path: Path | None) -> Rules:
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RulesError(f"fichier de règles illisible {path} : {exc}") from exc
        flat: dict[str, Any] = {}
        for section in ("secret", "extrait"):
            flat.update(data.get(section, {}))
        rules = cls.from_dict(flat)
        if min(rules.min_salaries, rules.min_etablissements, rules.min_entreprises, rules.k) < 1:
            raise RulesError("les seuils doivent être des entiers positifs")
        if not 0 < rules.dominance_pct <= 100:
            raise RulesError("dominance_pct doit être compris entre 0 et 100")
        if not 0 <= rules.p_pct <= 100:
            raise RulesError("p_pct doit être compris entre 0 et 100")
        if not 0 < rules.protection_pct <= 100 or rules.protection_min < 0:
            raise RulesError(
                "protection_pct doit être compris entre 0 (exclu) et 100, protection_min positif"
            )
        return rules
