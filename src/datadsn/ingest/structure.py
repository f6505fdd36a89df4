"""Block-order rules of the NEODES message tree, as a lookup of allowed transitions.

Whether a block instance may start right after a line of another block depends only on the pair
(previous block, new block). Precomputing the verdict for every pair (see ingest.catalogue) lets
the parser check the whole hierarchy with one vectorised lookup instead of a stack walked line by
line.
"""

from __future__ import annotations

from datadsn.norm import Norm

ENVOI, DECLARATION, TOTAL = "S10.G00.00", "S20.G00.05", "S90.G00.90"
ENTREPRISE, ETABLISSEMENT = "S21.G00.06", "S21.G00.11"

OK, REPEATED, ORPHAN, OUT_OF_ORDER = "ok", "repete", "orphelin", "ordre"


def _root(norm: Norm, block: str) -> str:
    chain = norm.ancestors(block)
    return chain[-1] if chain else block


def transition(norm: Norm, previous: str | None, block: str) -> str:
    """Verdict for a new instance of ``block`` right after a line of ``previous``."""
    target = norm.blocks[block]
    if target.parent is None:  # the three roots: envoi, déclaration, total
        if block == ENVOI:
            return OK
        if previous is None:
            return ORPHAN
        return OK if _root(norm, previous) in (ENVOI, DECLARATION) else OUT_OF_ORDER
    if previous is None:
        return ORPHAN
    path = [previous, *norm.ancestors(previous)]
    if target.parent not in path:
        return ORPHAN
    if target.parent == previous:
        return OK
    sibling = next(b for b in path if norm.blocks[b].parent == target.parent)
    if sibling == block:
        return REPEATED if not target.repeatable else OK
    return OK if target.order > norm.blocks[sibling].order else OUT_OF_ORDER
