"""Generate the shipped NEODES catalogue from an official ``dsn-datatypes-CTxxxx.xlsx`` workbook.

The workbook is read once by a developer (``datadsn norm generate``) and the result is written as a
compact JSON file in ``datadsn/norm/data/``; the product never needs the workbook at run time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from datadsn.norm.naming import column_name, table_name

DATA_DIR = Path(__file__).parent / "data"

ROOTS = {"S10.G00.00": "Envoi", "S20.G00.05": "Déclaration", "S90.G00.90": "Total de l'envoi"}


def _clean(text: Any) -> str | None:
    if text is None:
        return None
    value = str(text).replace("_x000D_", "").strip()
    return value or None


def _sheet_rows(workbook: Any, name: str) -> list[dict[str, Any]]:
    """Rows of a sheet as dicts keyed by the header row (column order differs between years)."""
    rows = workbook[name].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows)]
    out = []
    for row in rows:
        if row is None or all(c is None for c in row):
            continue
        out.append({h: row[i] for i, h in enumerate(header) if h and i < len(row)})
    return out


def _parse_codes(values: Any) -> dict[str, str]:
    codes: dict[str, str] = {}
    text = _clean(values)
    if not text:
        return codes
    for item in text.split(";"):
        code, sep, label = item.partition("=")
        if sep and code.strip():
            codes[code.strip()] = label.strip()
    return codes


def _sql_type(nature: str, regexp: str | None, lg_min: int, lg_max: int) -> str:
    """Storage type of a rubrique: dates as DATE, amounts as DECIMAL, codes as text."""
    if nature == "Date":
        return "DATE"
    if nature == "Numeric":
        if regexp and "\\." in regexp:
            return "DECIMAL(18,2)"
        # A fixed-width number (fraction '11', hour '0830') is a code: keep its leading zeros.
        if lg_min != lg_max and lg_max <= 18:
            return "BIGINT"
    return "VARCHAR"


def workbook_to_catalogue(path: Path) -> dict[str, Any]:
    import openpyxl  # only needed by developers regenerating the catalogue

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    standard = {
        str(r[0]).strip(): r[1]
        for r in workbook["Standard"].iter_rows(values_only=True)
        if r and r[0] is not None
    }
    version = str(standard["Version"]).strip()

    datatypes: dict[str, dict[str, Any]] = {}
    codelists: dict[str, dict[str, str]] = {}
    for row in _sheet_rows(workbook, "Data Types"):
        dt_id = _clean(row.get("Id"))
        if not dt_id:
            continue
        nature = _clean(row.get("Nature")) or "Alphanumeric"
        regexp = _clean(row.get("Regexp"))
        lg_min = int(row.get("Lg Min") or 0)
        lg_max = int(row.get("Lg Max") or 0)
        codes = _parse_codes(row.get("Values"))
        if codes:
            codelists[dt_id] = codes
        datatypes[dt_id] = {
            "nature": nature,
            "regexp": regexp,
            "min": lg_min,
            "max": lg_max,
            "sql": _sql_type(nature, regexp, lg_min, lg_max),
            "description": _clean(row.get("Description")),
        }

    sheet_blocks = _sheet_rows(workbook, "Blocks")
    blocks: list[dict[str, Any]] = []

    def add_root(block_id: str) -> None:
        bound = "*" if block_id == "S20.G00.05" else "1"
        blocks.append(
            {
                "id": block_id,
                "name": ROOTS[block_id],
                "table": table_name(block_id, ROOTS[block_id]),
                "parent": None,
                "min": 1,
                "max": bound,
            }
        )

    add_root("S10.G00.00")
    for row in sheet_blocks:
        block_id = _clean(row["Id"])
        parent = _clean(row.get("ParentId"))
        if not block_id:
            continue
        if parent == "S20.G00.05" and not any(b["id"] == "S20.G00.05" for b in blocks):
            add_root("S20.G00.05")
        blocks.append(
            {
                "id": block_id,
                "name": _clean(row.get("Name")),
                "table": table_name(block_id, _clean(row.get("Name")) or block_id),
                "parent": parent,
                "min": int(row.get("lowerBound") or 0),
                "max": str(row.get("upperBound") or "*").strip(),
            }
        )
    add_root("S90.G00.90")

    rubriques: list[dict[str, Any]] = []
    for row in _sheet_rows(workbook, "Fields"):
        block_id = _clean(row.get("Block Id"))
        num = _clean(row.get("Id"))
        if not block_id or not num:
            continue
        dt_id = _clean(row.get("DataType Id")) or ""
        rubriques.append(
            {
                "id": f"{block_id}.{int(num):03d}",
                "name": _clean(row.get("Name")),
                "datatype": dt_id,
                "semantic": _clean(row.get("Comment")),
            }
        )
    rubriques.sort(key=lambda r: r["id"])
    taken: dict[str, set[str]] = {}
    for r in rubriques:
        names = taken.setdefault(r["id"][:10], set())
        r["column"] = column_name(r["id"], r["name"] or r["id"], names)
        names.add(r["column"])
    return {
        "version": version,
        "revision": str(standard.get("Revision") or "").strip(),
        "description": str(standard.get("Description") or "").strip(),
        "source": path.name,
        "blocks": blocks,
        "rubriques": rubriques,
        "datatypes": datatypes,
        "codelists": codelists,
    }


def generate(workbooks: list[Path], out_dir: Path = DATA_DIR) -> list[Path]:
    """Write one ``<version>.json`` per workbook; returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    catalogues = sorted(
        (workbook_to_catalogue(path) for path in workbooks), key=lambda c: c["version"]
    )
    # A rubrique keeps one column name across norm versions: the newest label wins.
    columns: dict[str, str] = {}
    for catalogue in reversed(catalogues):
        for r in catalogue["rubriques"]:
            columns.setdefault(r["id"], r["column"])
    written = []
    for catalogue in catalogues:
        for r in catalogue["rubriques"]:
            r["column"] = columns[r["id"]]
        path = Path(catalogue["source"])
        if not re.fullmatch(r"P\d{2}V\d{2}", catalogue["version"]):
            raise ValueError(f"{path}: version inattendue {catalogue['version']!r}")
        target = out_dir / f"{catalogue['version']}.json"
        target.write_text(
            json.dumps(catalogue, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        written.append(target)
    return written
