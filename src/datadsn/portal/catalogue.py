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


def _from_indicator_package() -> tuple[Indicator, ...]:
    """The indicator catalogue maintained with the SQL steps that compute the indicators: the
    portal shows it, it never keeps a copy of its own."""
    from datadsn.indicators.catalogue import CATALOGUE, DIMENSIONS

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
