"""Value checks against the norm catalogue: length, format (regexp), code list, real dates.

Checks run once per data type present in the batch, each vectorised over all its values.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from datadsn.ingest import issues
from datadsn.norm import Norm, load_norm

# The norm version is checked by shape: older and newer versions are mapped, not rejected.
VERSION_RUBRIQUE = "S10.G00.00.006"
VERSION_PATTERN = r"^P\d{2}V\d{2}$"


@cache
def rubrique_frame(version: str) -> pl.DataFrame:
    """The catalogue as a frame: rubrique -> data type, nature, bounds, table column."""
    norm = load_norm(version)
    return pl.DataFrame(
        [
            {
                "rubrique": r.id,
                "datatype": r.datatype,
                "nature": r.nature,
                "min_len": r.min_len,
                "max_len": r.max_len,
                "column": r.column,
                "table": norm.blocks[r.block].table,
            }
            for r in norm.rubriques.values()
        ]
    )


@cache
def _compiled(pattern: str) -> str | None:
    """An anchored version of a catalogue regexp, or None if Python cannot compile it."""
    anchored = f"^(?:{pattern})$"
    try:
        re.compile(anchored)
    except re.error:
        return None
    return anchored


def _check(norm: Norm, datatype: str, values: pl.Expr) -> pl.Expr:
    """Issue code for each value of one data type (null when the value is valid)."""
    rubrique = next(r for r in norm.rubriques.values() if r.datatype == datatype)
    length = values.str.len_chars()
    checks: list[tuple[pl.Expr, str]] = []
    if rubrique.max_len:
        bad_length = (length < rubrique.min_len) | (length > rubrique.max_len)
        checks.append((bad_length, issues.LONGUEUR_INVALIDE.code))
    if rubrique.nature == "Enumeration" and rubrique.codes:
        checks.append((~values.is_in(list(rubrique.codes)), issues.CODE_INCONNU.code))
    elif rubrique.nature == "Date":
        real = values.str.strptime(pl.Date, "%d%m%Y", strict=False).is_not_null()
        checks.append((~real | (length != 8), issues.DATE_INVALIDE.code))
    elif rubrique.regexp and (pattern := _compiled(rubrique.regexp)):
        checks.append((~values.str.contains(pattern), issues.FORMAT_INVALIDE.code))
    elif rubrique.nature == "Numeric":
        checks.append((~values.str.contains(r"^-?[0-9]+(\.[0-9]+)?$"), issues.FORMAT_INVALIDE.code))
    if not checks:
        return pl.lit(None, pl.String)
    expr: pl.Expr = pl.lit(None, pl.String)
    for condition, code in reversed(checks):  # the first failing check names the problem
        expr = pl.when(condition).then(pl.lit(code)).otherwise(expr)
    return expr


def validate_values(data: pl.DataFrame, version: str) -> pl.Series:
    """Issue code per row of ``data`` (``value``, ``datatype``, ``rubrique``, ``approx``).

    ``approx`` marks files whose norm version is not shipped: a code missing from the nearest
    catalogue may have been valid in theirs, so it is kept and reported, not rejected.
    """
    norm = load_norm(version)
    out = pl.Series("issue", [None] * data.height, dtype=pl.String)
    indexed = data.select("value", "datatype", "rubrique", "approx").with_row_index("_i")
    is_version = pl.col("rubrique") == VERSION_RUBRIQUE
    for (datatype,), part in indexed.group_by("datatype"):
        if datatype is None:
            continue
        check = (
            pl.when(is_version)
            .then(
                pl.when(pl.col("value").str.contains(VERSION_PATTERN))
                .then(None)
                .otherwise(pl.lit(issues.FORMAT_INVALIDE.code))
            )
            .otherwise(_check(norm, str(datatype), pl.col("value")))
        )
        found = (
            part.select("_i", "approx", issue=check)
            .filter(pl.col("issue").is_not_null())
            .with_columns(
                issue=pl.when(pl.col("approx") & (pl.col("issue") == issues.CODE_INCONNU.code))
                .then(pl.lit(issues.CODE_NON_VERIFIE.code))
                .otherwise(pl.col("issue"))
            )
        )
        if found.height:
            out = out.scatter(found["_i"], found["issue"])
    return out
