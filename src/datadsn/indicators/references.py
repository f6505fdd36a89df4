"""Reference tables shipped with the package (NAF, geography, IDCC, norm code lists).

NAF rev. 2: sections, the 88 divisions (= A88) and the A38 level are shipped; groups and classes
are derived from the sub-class code itself (``6201Z`` -> group ``62.0``, class ``62.01``), the
sub-class labels are not shipped. Communes are not listed: a commune code gives its département
(2 characters, 3 for overseas), the département its région.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from datadsn.engine.backends import Backend

DATA = Path(__file__).parent / "data"

# A38 from NAF divisions (ranges are inclusive; the A38 level groups whole divisions).
_A38_RANGES = (
    ("01", "03", "AZ"), ("05", "09", "BZ"), ("10", "12", "CA"), ("13", "15", "CB"),
    ("16", "18", "CC"), ("19", "19", "CD"), ("20", "20", "CE"), ("21", "21", "CF"),
    ("22", "23", "CG"), ("24", "25", "CH"), ("26", "26", "CI"), ("27", "27", "CJ"),
    ("28", "28", "CK"), ("29", "30", "CL"), ("31", "33", "CM"), ("35", "35", "DZ"),
    ("36", "39", "EZ"), ("41", "43", "FZ"), ("45", "47", "GZ"), ("49", "53", "HZ"),
    ("55", "56", "IZ"), ("58", "60", "JA"), ("61", "61", "JB"), ("62", "63", "JC"),
    ("64", "66", "KZ"), ("68", "68", "LZ"), ("69", "71", "MA"), ("72", "72", "MB"),
    ("73", "75", "MC"), ("77", "82", "NZ"), ("84", "84", "OZ"), ("85", "85", "PZ"),
    ("86", "86", "QA"), ("87", "88", "QB"), ("90", "93", "RZ"), ("94", "96", "SZ"),
    ("97", "98", "TZ"), ("99", "99", "UZ"),
)  # fmt: skip

# Norm code lists exported by ``refresh``: (table name, rubrique).
NORM_LISTS = (
    ("nature_contrat", "S21.G00.40.007"),
    ("motif_recours", "S21.G00.40.021"),
    ("motif_rupture", "S21.G00.62.002"),
    ("unite_quotite", "S21.G00.40.011"),
    ("modalite_temps", "S21.G00.40.014"),
    ("nature_juridique", "S21.G00.11.017"),
    ("sexe", "S21.G00.30.005"),
)
NORM_FILE = "codes_norme.csv"


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def a38_of_division(division: str) -> str | None:
    for low, high, code in _A38_RANGES:
        if low <= division <= high:
            return code
    return None


def section_of_a38(a38: str | None) -> str | None:
    return a38[0] if a38 else None


@cache
def naf_divisions() -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for row in read_csv("naf_divisions.csv"):
        a38 = a38_of_division(row["division"])
        rows.append({**row, "a38": a38, "section": section_of_a38(a38)})
    return rows


def departement_of_commune(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


@cache
def labels() -> dict[str, dict[str, str]]:
    """Code -> label per dimension, for the definitions sheet and charts."""
    out: dict[str, dict[str, str]] = {
        "naf_section": {r["section"]: r["libelle"] for r in read_csv("naf_sections.csv")},
        "naf_a38": {r["a38"]: r["libelle"] for r in read_csv("naf_a38.csv")},
        "naf_a88": {r["division"]: r["libelle"] for r in read_csv("naf_divisions.csv")},
        "departement": {r["departement"]: r["libelle"] for r in read_csv("departements.csv")},
        "region": {r["region"]: r["libelle"] for r in read_csv("regions.csv")},
        "idcc": {r["idcc"]: r["libelle"] for r in read_csv("idcc.csv")},
        "categorie_juridique": {
            r["categorie"]: r["libelle"] for r in read_csv("categories_juridiques.csv")
        },
    }
    if (DATA / NORM_FILE).exists():
        for row in read_csv(NORM_FILE):
            out.setdefault(row["liste"], {})[row["code"]] = row["libelle"]
    return out


def register(db: Backend) -> None:
    """Load the reference tables the SQL steps join (``ref_*``)."""
    divisions = naf_divisions()
    db.from_arrow(
        "ref_naf_divisions",
        pa.table(
            {
                "division": [r["division"] for r in divisions],
                "a38": [r["a38"] for r in divisions],
                "section": [r["section"] for r in divisions],
            }
        ),
    )
    deps = read_csv("departements.csv")
    db.from_arrow(
        "ref_departements",
        pa.table(
            {
                "departement": [r["departement"] for r in deps],
                "region": [r["region"] for r in deps],
            }
        ),
    )


def refresh(norm_version: str = "P26V01") -> Path:
    """Regenerate the code lists that come from the norm catalogue; returns the file written."""
    from datadsn.norm import load_norm

    norm = load_norm(norm_version)
    target = DATA / NORM_FILE
    tmp = target.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["liste", "rubrique", "code", "libelle"])
        for name, rubrique in NORM_LISTS:
            for code, label in sorted(norm.rubriques[rubrique].codes.items()):
                writer.writerow([name, rubrique, code, " ".join(str(label).split())])
    tmp.replace(target)
    labels.cache_clear()
    return target
