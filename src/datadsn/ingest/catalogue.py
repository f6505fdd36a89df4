"""The norm catalogue as small integer-indexed arrays, for the parser's vectorised lookups.

Every line gets a rubrique index (``rid``) with one lookup (a cast to the enum of the catalogue's
rubriques); its block index, rubrique number and data type then come from array gathers, which
are far cheaper than joins on strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from datadsn.ingest.structure import OK, transition
from datadsn.norm import Norm, load_norm

# Verdict codes of a block transition (see structure.transition).
VERDICTS = {"repete": 1, "orphelin": 2, "ordre": 3}
NO_BLOCK = -1  # "previous block" of the first data line of a file


@dataclass(frozen=True)
class Catalogue:
    norm: Norm
    rid: dict[str, int]  # rubrique id -> index
    rubriques: list[str]  # index -> rubrique id
    rubrique_enum: pl.Enum  # categories in index order: the physical value is the index
    block_ids: list[str]  # block index -> block id (message-tree order)
    rid_block: pl.Series  # Int16, rubrique index -> block index
    rid_num: pl.Series  # Int16, rubrique index -> rubrique number
    rid_datatype: pl.Series  # Int16, rubrique index -> data type index
    datatypes: list[str]  # data type index -> data type id
    transitions: dict[int, int]  # (prev + 1) * 1000 + block -> verdict code, only non-ok pairs

    def block_index(self, block_id: str) -> int:
        return self.block_ids.index(block_id)

    def rids_of(self, *rubriques: str) -> list[int]:
        return [self.rid[r] for r in rubriques if r in self.rid]


def transition_key(prev: pl.Expr, block: pl.Expr) -> pl.Expr:
    return (prev.cast(pl.Int32) + 1) * 1000 + block.cast(pl.Int32)


@cache
def catalogue(version: str) -> Catalogue:
    norm = load_norm(version)
    block_ids = list(norm.blocks)
    rubriques = list(norm.rubriques)
    datatypes = sorted({r.datatype for r in norm.rubriques.values()})
    verdicts: dict[int, int] = {}
    for b, block in enumerate(block_ids):
        for p, previous in [(NO_BLOCK, None), *enumerate(block_ids)]:
            verdict = transition(norm, previous, block)
            if verdict != OK:
                verdicts[(p + 1) * 1000 + b] = VERDICTS[verdict]
    return Catalogue(
        norm=norm,
        rid={r: i for i, r in enumerate(rubriques)},
        rubriques=rubriques,
        rubrique_enum=pl.Enum(rubriques),
        block_ids=block_ids,
        rid_block=pl.Series(
            [block_ids.index(norm.rubriques[r].block) for r in rubriques], dtype=pl.Int16
        ),
        rid_num=pl.Series([norm.rubriques[r].number for r in rubriques], dtype=pl.Int16),
        rid_datatype=pl.Series(
            [datatypes.index(norm.rubriques[r].datatype) for r in rubriques], dtype=pl.Int16
        ),
        datatypes=datatypes,
        transitions=verdicts,
    )
