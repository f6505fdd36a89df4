"""Nested dimensions: territories and activities, and the tables protected with them.

A table by région and a table by département of the same indicator and period are linked: each
région is the sum of its départements, which anyone knows. Protected one by one, a cell masked
in one table can be recomputed from the other (13 masked cells exact on the demo). So a table
is protected jointly with the other levels of the hierarchies of its dimensions: its cells are
those of a wider cube where the missing levels are crossed in, the cube is protected as one
table (each level is a margin of the finer one), and the table is that cube's slice. Two tables
of different levels of a hierarchy are slices of the same cube: a cell masked in one is masked in
the other.

Levels from the root down to a default depth (département, division A88) are crossed in for a
table of levels of one hierarchy only; a finer level (commune, sous-classe) only when the table
asks for it. Any other table is protected with the levels above its own only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from . import references

# Each hierarchy from its coarsest level to its finest; ``DEFAULT_DEPTH`` levels always joined.
HIERARCHIES: dict[str, tuple[str, ...]] = {
    "territoire": ("region", "departement", "commune"),
    "activite": ("naf_section", "naf_a38", "naf_a88", "naf_sous_classe"),
}
DEFAULT_DEPTH = {"territoire": 2, "activite": 3}
UNKNOWN = "inconnu"


def hierarchy_of(dim: str) -> str | None:
    return next((name for name, levels in HIERARCHIES.items() if dim in levels), None)


def protection_dims(dims: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The dimensions of the cube a table of ``dims`` is protected in: ``dims``, then for each
    hierarchy they touch its levels from the root down to the table's level; for a table of
    levels of one hierarchy only (by région, by section and A88...), down to the default depth
    (only levels the indicator offers, in ``allowed``). Other tables are not deepened: a cube of
    activities × territories at the default depths is some 9,000 cells a month, most of them
    secret, and a section × sex × age table deepened to A88 took 2 minutes to protect on 40
    employers instead of seconds: beyond what the secondary suppression solves in a run."""
    out = list(dims)
    touched = [name for name, levels in HIERARCHIES.items() if any(d in levels for d in dims)]
    # only a table of levels of one hierarchy alone is deepened (see the docstring)
    deepen = len(touched) == 1 and all(d in HIERARCHIES[touched[0]] for d in dims)
    for name in touched:
        levels = HIERARCHIES[name]
        finest = max(levels.index(d) for d in dims if d in levels) + 1
        depth = max(finest, DEFAULT_DEPTH[name]) if deepen else finest
        out += [d for d in levels[:depth] if d in allowed and d not in out]
    return out


@cache
def _region_of_departement() -> dict[str, str]:
    return {r["departement"]: r["region"] for r in references.read_csv("departements.csv")}


def _known(parent: Callable[[str], str | None]) -> Callable[[str], str]:
    def of(value: str) -> str:
        found = None if value == UNKNOWN else parent(value)
        return found or UNKNOWN

    return of


# The public parent of a value, one level up (what an attacker knows as well as we do).
PARENT: dict[str, Callable[[str], str]] = {
    "departement": _known(lambda d: _region_of_departement().get(d)),
    "commune": _known(references.departement_of_commune),
    "naf_a38": _known(references.section_of_a38),
    "naf_a88": _known(references.a38_of_division),
    "naf_sous_classe": _known(lambda c: c.replace(".", "")[:2]),
}


def ancestors(dim: str, value: str) -> dict[str, str]:
    """The values of the coarser levels of ``dim``'s hierarchy above ``value``."""
    name = hierarchy_of(dim)
    if name is None:
        return {}
    levels = HIERARCHIES[name]
    out = {}
    for level in reversed(levels[: levels.index(dim) + 1]):
        if level not in PARENT:
            break
        value = PARENT[level](value)
        out[levels[levels.index(level) - 1]] = value
    return out
