"""Released tables: one row per cell with its status flags, written as CSV, Parquet or XLSX.

Every file carries its metadata (indicator, definition, window, dimensions, disclosure rules,
SHA-256 of the canonical content): inside the Parquet schema, in a ``metadonnees`` sheet for XLSX,
and in ``<file>.meta.json`` beside a CSV. ``audit`` recomputes the digest and re-checks the rules.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from datadsn import __version__

from .catalogue import DIMENSIONS, Indicator
from .rules import Rules

FORMAT = "datadsn-indicateurs/1"
META_KEY = b"datadsn"
STATUSES = ("publie", "masque_primaire", "masque_secondaire")
METHOD = (
    "Secret primaire : fréquence (salariés, établissements) et dominance NK(1, p) ; secret "
    "secondaire : suppression complémentaire heuristique vérifiée par programmation linéaire "
    "(intervalle de chaque case masquée ≥ niveau de protection)."
)
SUFFIXES = (".csv", ".parquet", ".xlsx")


class ReleaseError(ValueError):
    pass


def published_table(cells: pl.DataFrame, indicator: Indicator, dims: list[str]) -> pl.DataFrame:
    """The releasable rows: no counts or dominance shares, value emptied when masked."""
    secondary = pl.col("masque_secondaire") & ~pl.col("masque_primaire")
    status = (
        pl.when(pl.col("masque_primaire"))
        .then(pl.lit("masque_primaire"))
        .when(secondary)
        .then(pl.lit("masque_secondaire"))
        .otherwise(pl.lit("publie"))
    )
    out = cells.with_columns(status.alias("statut")).select(
        pl.lit(indicator.code).alias("indicateur"),
        "periode",
        *dims,
        shown_value(),
        pl.lit(indicator.unite).alias("unite"),
        "statut",
    )
    return out.with_columns(
        *[(pl.col("statut") == s).alias(s) for s in STATUSES],
    )


def shown_value() -> pl.Expr:
    """``valeur`` as released: rounded, empty unless the cell's ``statut`` is ``publie``."""
    return (
        pl.when(pl.col("statut") == "publie")
        .then(pl.col("valeur").round(4))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("valeur")
    )


def canonical_digest(table: pl.DataFrame) -> str:
    """SHA-256 of the content, independent of the file format it was read from."""
    digest = hashlib.sha256()
    for row in table.select(pl.all().cast(pl.Utf8)).iter_rows():
        parts = []
        for name, value in zip(table.columns, row, strict=True):
            if name == "valeur":
                parts.append("" if value in (None, "") else f"{float(value):.4f}")
            elif name in STATUSES:
                parts.append("1" if str(value).lower() in ("true", "1") else "0")
            else:
                parts.append("" if value is None else str(value))
        digest.update(("\x1f".join(parts) + "\n").encode("utf-8"))
    return digest.hexdigest()


def metadata(
    indicator: Indicator,
    dims: list[str],
    period: str,
    start: str,
    end: str,
    rules: Rules,
    table: pl.DataFrame,
    source: str,
) -> dict[str, Any]:
    counts = {s: int(table[s].sum()) for s in STATUSES}
    return {
        "format": FORMAT,
        "indicateur": indicator.code,
        "titre": indicator.titre,
        "definition": indicator.definition,
        "unite": indicator.unite,
        "dimensions": dims,
        "periode": period,
        "du": start,
        "au": end,
        "additif": indicator.additif,
        "comptage": indicator.counts,
        "regles": rules.to_dict(),
        "methode_secret": METHOD,
        "precautions": list(indicator.precautions),
        "source": source,
        "version": __version__,
        "genere_le": datetime.now(UTC).isoformat(timespec="seconds"),
        "lignes": table.height,
        "cases": counts,
        "empreinte_sha256": canonical_digest(table),
    }


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def write(table: pl.DataFrame, meta: dict[str, Any], path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ReleaseError(f"format inconnu {suffix!r} : choisir .csv, .parquet ou .xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(meta, ensure_ascii=False, indent=2)
    if suffix == ".csv":
        table.write_csv(path)
        sidecar(path).write_text(blob, encoding="utf-8")
    elif suffix == ".parquet":
        arrow = table.to_arrow()
        arrow = arrow.replace_schema_metadata({META_KEY: blob.encode("utf-8")})
        pq.write_table(arrow, path)
    else:
        _write_xlsx(table, meta, path)


def _write_xlsx(table: pl.DataFrame, meta: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "donnees"
    sheet.append(table.columns)
    for row in table.iter_rows():
        sheet.append(list(row))
    defs = book.create_sheet("definitions")
    defs.append(["element", "definition"])
    defs.append([meta["indicateur"], f"{meta['titre']} : {meta['definition']}"])
    defs.append(["unite", meta["unite"]])
    for dim in meta["dimensions"]:
        defs.append([dim, DIMENSIONS.get(dim, dim)])
    defs.append(["Ensemble", "marge : total sur la dimension"])
    defs.append(["publie", "case diffusée"])
    defs.append(["masque_primaire", "case soumise au secret primaire (seuils, dominance)"])
    defs.append(["masque_secondaire", "case masquée pour protéger une case en secret primaire"])
    for caveat in meta["precautions"]:
        defs.append(["precaution", caveat])
    info = book.create_sheet("metadonnees")
    info.append(["cle", "valeur"])
    for key, value in meta.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        info.append([key, value])
    info.append(["json", json.dumps(meta, ensure_ascii=False)])
    book.save(path)


def read(path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """A released file back: its rows (all as text) and its metadata."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ReleaseError(f"fichier introuvable : {path}")
    try:
        if suffix == ".csv":
            table = pl.read_csv(path, infer_schema=False)
            meta = json.loads(sidecar(path).read_text(encoding="utf-8"))
        elif suffix == ".parquet":
            raw = pq.read_schema(path).metadata or {}
            if META_KEY not in raw:
                raise ReleaseError("métadonnées absentes du fichier Parquet")
            meta = json.loads(raw[META_KEY].decode("utf-8"))
            table = pl.read_parquet(path)
        elif suffix == ".xlsx":
            table, meta = _read_xlsx(path)
        else:
            raise ReleaseError(f"format inconnu {suffix!r}")
    except (OSError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"métadonnées illisibles : {exc}") from exc
    return table.select(pl.all().cast(pl.Utf8)), meta


def _read_xlsx(path: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    rows = list(book["donnees"].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    data = {
        h: [None if r[i] is None else str(r[i]) for r in rows[1:]] for i, h in enumerate(header)
    }
    meta_rows = {str(r[0]): r[1] for r in book["metadonnees"].iter_rows(values_only=True)}
    return pl.DataFrame(data, schema=dict.fromkeys(header, pl.Utf8)), json.loads(
        str(meta_rows["json"])
    )
