"""File-level text: envoi header and total, encoding, and line-level defects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import hashrand
from .noise import NoiseProfile

SOFTWARE = "DATADSN SIMULATEUR"
NORM = "P26V01"


def envoi_header(siren: str, nic: str, name: str, street: str, cp: str, localite: str) -> str:
    lines = [
        ("S10.G00.00.001", SOFTWARE),
        ("S10.G00.00.002", "DATADSN"),
        ("S10.G00.00.003", "0.1.0"),
        ("S10.G00.00.005", "02"),
        ("S10.G00.00.006", NORM),
        ("S10.G00.00.007", "01"),
        ("S10.G00.00.008", "01"),
        ("S10.G00.01.001", siren),
        ("S10.G00.01.002", nic),
        ("S10.G00.01.003", name[:60]),
        ("S10.G00.01.004", street),
        ("S10.G00.01.005", cp),
        ("S10.G00.01.006", localite),
        ("S10.G00.02.001", "01"),
        ("S10.G00.02.002", "SERVICE PAIE"),
        ("S10.G00.02.004", f"paie@e{siren}.fr"),
        ("S10.G00.02.005", "0102030405"),
    ]
    return "\n".join(f"{r},'{v}'" for r, v in lines)


HEADER_LINES = 17


def envoi_text(header: str, body: str, body_lines: int, declarations: int) -> str:
    total = HEADER_LINES + body_lines + 2
    return f"{header}\n{body}\nS90.G00.90.001,'{total}'\nS90.G00.90.002,'{declarations}'\n"


@dataclass
class LineDefect:
    kind: str  # malformed_line | unknown_code
    line: int  # 1-based
    rubrique: str
    detail: str


_MALFORMED_TARGETS = ("S21.G00.40.006", "S21.G00.30.019", "S21.G00.11.003")
_UNKNOWN = {"S21.G00.40.007": "77", "S21.G00.62.002": "555", "S21.G00.53.003": "99"}


def defect_draws(keys: np.ndarray, month: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-file uniform draws deciding a malformed line and an unknown code."""
    return hashrand.uniform(seed, "malformed", keys, month), hashrand.uniform(
        seed, "unknown", keys, month
    )


def inject_line_defects(
    text: str, key: int, month: int, seed: int, noise: NoiseProfile, u_mal: float, u_unk: float
) -> tuple[str, list[LineDefect]]:
    """At most one malformed line and one unknown code per file, chosen by a keyed hash."""
    if u_mal >= noise.malformed_line and u_unk >= noise.unknown_code:
        return text, []
    lines = text.split("\n")
    defects = []
    pick = float(hashrand.uniform(seed, "line-pick", key, month))
    if u_unk < noise.unknown_code:
        cands = [i for i, ln in enumerate(lines) if ln[:14] in _UNKNOWN]
        if cands:
            i = cands[int(pick * len(cands))]
            rub = lines[i][:14]
            old = lines[i][16:-1]
            lines[i] = f"{rub},'{_UNKNOWN[rub]}'"
            defects.append(LineDefect("unknown_code", i + 1, rub, f"{old} -> {_UNKNOWN[rub]}"))
    if u_mal < noise.malformed_line:
        cands = [i for i, ln in enumerate(lines) if ln[:14] in _MALFORMED_TARGETS]
        if cands:
            i = cands[int(pick * len(cands) * 7.3) % len(cands)]
            rub = lines[i][:14]
            variant = int(pick * 1000) % 3
            if variant == 0:
                lines[i] = lines[i][:-1]  # closing quote lost
                detail = "apostrophe fermante manquante"
            elif variant == 1:
                lines[i] = lines[i].replace(",'", " '", 1)  # separator lost
                detail = "virgule manquante"
            else:
                lines[i] = "ÉCHEC EXPORT LIGNE TRONQUÉE"
                detail = "texte parasite"
            defects.append(LineDefect("malformed_line", i + 1, rub, detail))
    return "\n".join(lines), defects


def inflate_amounts(text: str) -> str:
    """The erroneous original of an 'annule et remplace': every 51.013 amount 10 % too high."""
    out = []
    for ln in text.split("\n"):
        if ln.startswith("S21.G00.51.013,'"):
            cents = round(float(ln[16:-1]) * 110)
            sign = "-" if cents < 0 else ""
            ln = f"S21.G00.51.013,'{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}'"
        out.append(ln)
    return "\n".join(out)
