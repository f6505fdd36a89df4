"""The NEODES norm catalogue: blocks, rubriques, data types and code lists per norm version.

The catalogue is generated from the official workbooks (see :mod:`datadsn.norm.generate`) and
shipped as JSON in ``data/``. Older or unknown versions map to the nearest known one with a warning.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_VERSION = "P26V01"


class NormVersionWarning(UserWarning):
    """A declaration names a norm version we do not ship; the nearest one is used."""


@dataclass(frozen=True)
class Block:
    id: str
    name: str
    table: str  # raw table name, French snake case
    parent: str | None
    min: int
    max: str
    order: int  # position in the message tree (depth-first), used to check block order

    @property
    def repeatable(self) -> bool:
        return self.max != "1"


@dataclass(frozen=True)
class Rubrique:
    id: str
    block: str
    name: str
    column: str  # column name in the block's raw table
    datatype: str
    nature: str  # Alphanumeric, Numeric, Date, Enumeration, ExternalReferential
    sql: str  # VARCHAR, DATE, DECIMAL(18,2), BIGINT
    min_len: int
    max_len: int
    regexp: str | None
    codes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def number(self) -> int:
        return int(self.id[-3:])


@dataclass
class Norm:
    version: str
    revision: str
    description: str
    blocks: dict[str, Block]
    rubriques: dict[str, Rubrique]

    def children(self, block_id: str) -> list[Block]:
        return [b for b in self.blocks.values() if b.parent == block_id]

    def ancestors(self, block_id: str) -> list[str]:
        """Parent chain of a block, nearest first."""
        chain = []
        parent = self.blocks[block_id].parent
        while parent is not None:
            chain.append(parent)
            parent = self.blocks[parent].parent
        return chain

    def block_rubriques(self, block_id: str) -> list[Rubrique]:
        return sorted(
            (r for r in self.rubriques.values() if r.block == block_id), key=lambda r: r.id
        )


def available_versions() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("P*V*.json"))


def _version_key(version: str) -> tuple[int, int]:
    match = re.fullmatch(r"P(\d{2})V(\d{2})", version)
    if not match:
        raise ValueError(version)
    year = int(match.group(1))
    # P02..P19 were 2016-2019 phases; from P19 on the number is the year. Map P0x to 2016+x.
    return (year if year >= 19 else 14 + year, int(match.group(2)))


def resolve_version(version: str | None) -> tuple[str, str | None]:
    """The shipped version to use for ``version`` and a French warning when it is not exact."""
    known = available_versions()
    if version in known:
        return version, None
    if not version or not re.fullmatch(r"P\d{2}V\d{2}", version):
        return DEFAULT_VERSION, (
            f"version de norme {version!r} non reconnue : catalogue {DEFAULT_VERSION} utilisé"
        )
    target = _version_key(version)
    # On a tie prefer the newer catalogue: codes are added far more often than removed.
    nearest = min(known, key=lambda k: (abs(_version_key(k)[0] - target[0]), -_version_key(k)[0]))
    return nearest, f"norme {version} non livrée : catalogue le plus proche {nearest} utilisé"


@cache
def load_norm(version: str = DEFAULT_VERSION) -> Norm:
    """Load a shipped catalogue; unknown versions map to the nearest one with a warning."""
    resolved, warning = resolve_version(version)
    if warning:
        warnings.warn(warning, NormVersionWarning, stacklevel=2)
    raw = json.loads((DATA_DIR / f"{resolved}.json").read_text(encoding="utf-8"))
    blocks = {
        b["id"]: Block(b["id"], b["name"], b["table"], b["parent"], b["min"], b["max"], i)
        for i, b in enumerate(raw["blocks"])
    }
    datatypes = raw["datatypes"]
    codelists = raw["codelists"]
    rubriques = {}
    for r in raw["rubriques"]:
        dt = datatypes.get(r["datatype"], {})
        rubriques[r["id"]] = Rubrique(
            id=r["id"],
            block=r["id"][:10],
            name=r["name"] or "",
            column=r["column"],
            datatype=r["datatype"],
            nature=dt.get("nature", "Alphanumeric"),
            sql=dt.get("sql", "VARCHAR"),
            min_len=dt.get("min", 0),
            max_len=dt.get("max", 0),
            regexp=dt.get("regexp"),
            codes=codelists.get(r["datatype"], {}),
        )
    return Norm(raw["version"], raw["revision"], raw["description"], blocks, rubriques)
