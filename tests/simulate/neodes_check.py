"""A strict NEODES line checker for the simulator's output (the ingester's rules, restated)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from datadsn.norm import Norm

LINE = re.compile(r"^(S\d{2}\.G\d{2}\.\d{2}\.\d{3}),'(.*)'$", re.DOTALL)


@dataclass
class BadLine:
    line: int
    reason: str
    text: str


def check_value(norm: Norm, rub_id: str, value: str) -> str | None:
    rub = norm.rubriques.get(rub_id)
    if rub is None:
        return "rubrique inconnue"
    if value == "":
        return "valeur vide"
    if rub.codes and rub.nature == "Enumeration" and value not in rub.codes:
        return "code inconnu"
    if (rub.min_len and len(value) < rub.min_len) or (rub.max_len and len(value) > rub.max_len):
        return "longueur"
    if rub.regexp and not re.fullmatch(rub.regexp, value):
        return "format"
    return None


def check_file(norm: Norm, path: Path) -> tuple[list[BadLine], dict[str, int]]:
    """Bad lines of one file plus structural facts (lines, declarations, S90 values)."""
    raw = path.read_bytes()
    text = raw.decode("latin-1")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    assert lines[-1] == "", "file must end with a line break"
    lines = lines[:-1]
    bad: list[BadLine] = []
    prev_block_order = -1
    prev_block = ""
    prev_num = -1
    facts = {
        "lines": len(lines),
        "declarations": 0,
        "s90_lines": -1,
        "s90_decl": -1,
        "order_errors": 0,
    }
    for i, ln in enumerate(lines, start=1):
        m = LINE.match(ln)
        if not m:
            bad.append(BadLine(i, "malformed", ln))
            continue
        rub_id, value = m.group(1), m.group(2)
        reason = check_value(norm, rub_id, value)
        if reason:
            bad.append(BadLine(i, reason, ln))
        block = rub_id[:10]
        num = int(rub_id[-3:])
        if block not in norm.blocks:
            continue
        order = norm.blocks[block].order
        if block == prev_block:
            if num <= prev_num and not norm.blocks[block].repeatable:
                facts["order_errors"] += 1
        elif order < prev_block_order:
            # Going back up the tree is only allowed to a block whose parent chain is open.
            ancestors = set(norm.ancestors(prev_block)) | {prev_block}
            if norm.blocks[block].parent not in ancestors and norm.blocks[block].parent is not None:
                facts["order_errors"] += 1
        prev_block, prev_num, prev_block_order = block, num, order
        if rub_id == "S20.G00.05.001":
            facts["declarations"] += 1
        if rub_id == "S90.G00.90.001":
            facts["s90_lines"] = int(value)
        if rub_id == "S90.G00.90.002":
            facts["s90_decl"] = int(value)
    return bad, facts
