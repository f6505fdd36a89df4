"""From raw bytes to one row per physical line: file, line number, rubrique, value, verdict.

Files are decoded (ISO-8859-1 by the norm, UTF-8 tolerated), joined and split once, so that a batch
of many small files costs one vectorised pass. Nothing here loops over lines in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from datadsn.ingest import issues
from datadsn.ingest.catalogue import Catalogue

RUBRIQUE_PATTERN = r"^S\d{2}\.G\d{2}\.\d{2}\.\d{3}$"
# Lot envelopes and platform rubriques added by concentrators (not part of the declarant norm).
ENVELOPE_PREFIXES = ("S05.", "S06.", "S95.", "S96.")
ENVELOPE_BLOCKS = ("S10.G00.95", "S20.G00.96")
ENVELOPE_RUBRIQUES = ("S21.G00.11.110", "S21.G00.11.111", "S21.G00.11.112")


@dataclass(frozen=True)
class Source:
    """One input file: its display name and its bytes."""

    name: str
    data: bytes


def decode(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes and its encoding: UTF-8 if it decodes strictly, else ISO-8859-1
    (or the ``encoding`` already found for the whole file, when ``data`` is a piece of it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if encoding is not None:
        return (data if encoding == "utf-8" else data.decode("latin-1").encode("utf-8")), encoding
    if data.isascii():
        return data, "utf-8"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8"), "iso-8859-1"


def lf_only(blob: bytes) -> bytes:
    """The text with every line ending (LF, CRLF, a lone CR) as LF."""
    if b"\r" in blob:
        return blob.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return blob


def split_lines(blobs: list[bytes]) -> pl.DataFrame:
    """One row per physical line of every file: ``file_idx``, ``line_no`` (1-based), ``raw``.

    The files (UTF-8 bytes) are joined and read back by Polars' CSV reader with a separator that
    never occurs, which splits lines several times faster than ``str.split``; blank lines come
    back as nulls. A line ends at LF, CRLF or a lone CR (old Mac files). The last line break of a
    file ends its last line, it starts none.
    """
    counts = []
    parts = []
    for blob in blobs:
        if not blob:
            counts.append(0)
            continue
        blob = lf_only(blob)
        if blob.endswith(b"\n"):
            blob = blob[:-1]
        counts.append(blob.count(b"\n") + 1)
        parts.append(blob)
    counts_arr = np.asarray(counts, dtype=np.int64)
    n_lines = int(counts_arr.sum())
    raw = _read_lines(b"\n".join(parts), n_lines)
    file_idx = np.repeat(np.arange(len(blobs), dtype=np.int32), counts_arr)
    starts = np.repeat(np.cumsum(counts_arr) - counts_arr, counts_arr)
    line_no = (np.arange(n_lines, dtype=np.int64) - starts + 1).astype(np.int32)
    return pl.DataFrame({"file_idx": file_idx, "line_no": line_no, "raw": raw})


def _read_lines(text: bytes, expected: int) -> pl.Series:
    if not expected:
        return pl.Series("raw", [], pl.String)
    try:
        frame = pl.read_csv(
            text,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            new_columns=["raw"],
            schema={"raw": pl.String},
            infer_schema=False,
        )
        if frame.height == expected:
            return frame["raw"].fill_null("")
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError):
        pass
    # A line holding the separator character: split the slow, exact way.
    return pl.Series("raw", [text.decode("utf-8")]).str.split("\n").explode()


def classify(lines: pl.DataFrame, cat: Catalogue) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split lines into rubrique and value, and set aside every line that is not plain data.

    Returns ``data`` (lines of known rubriques with a readable value, in file order: ``file_idx``,
    ``line_no``, ``rid`` = rubrique index in the catalogue, ``value``, ``issue`` = a warning or
    null) and ``other`` (every other line with its ``rubrique`` if readable, ``value``, ``issue``
    and ``kind``: ``envelope`` for lot and platform lines kept aside, ``bad`` otherwise). Almost
    every line takes the fast path; the few others are examined closely.
    """
    raw = pl.col("raw")
    # A string that is no rubrique of the catalogue casts to null (about 30% cheaper than a
    # replace on a dict). 18 bytes or more: a value of at least one character between quotes.
    rid = raw.str.slice(0, 14).cast(cat.rubrique_enum, strict=False).to_physical()
    frame = lines.with_columns(
        rid=rid.cast(pl.Int16).fill_null(-1),
        fast=(raw.str.slice(14, 2) == ",'") & raw.str.ends_with("'") & (raw.str.len_bytes() >= 18),
    )
    fast = pl.col("fast") & (pl.col("rid") >= 0)
    data = frame.filter(fast).select(
        "file_idx",
        "line_no",
        "rid",
        value=raw.str.slice(16).str.head(-1),
        issue=pl.lit(None, pl.String),
    )
    slow = _examine(frame.filter(~fast).drop("fast"))
    slow_data = slow.filter(pl.col("kind") == "data")
    if slow_data.height:
        data = pl.concat([data, slow_data.select(data.columns)]).sort("file_idx", "line_no")
    return data, slow.filter(pl.col("kind") != "data")


def _examine(lines: pl.DataFrame) -> pl.DataFrame:
    """Classify the lines that are not plain quoted values of a known rubrique."""
    raw = pl.col("raw")
    length = raw.str.len_chars()
    after = raw.str.slice(14, 2)
    quoted = (after == ",'") & raw.str.ends_with("'") & (length >= 17)
    unquoted = (raw.str.slice(14, 1) == ",") & (after != ",'")
    code = raw.str.slice(0, 14)
    frame = lines.with_columns(
        code_ok=code.str.contains(RUBRIQUE_PATTERN),
        value=pl.when(quoted)
        .then(raw.str.slice(16).str.head(-1))
        .when(unquoted)
        .then(raw.str.slice(15)),
        issue=pl.when(raw == "")
        .then(pl.lit(issues.LIGNE_VIDE.code))
        .when(quoted & (length == 17))
        .then(pl.lit(issues.VALEUR_VIDE.code))
        .when(quoted)
        .then(None)
        .when(after == ",'")
        .then(pl.lit(issues.APOSTROPHE_MANQUANTE.code))
        .when(unquoted & (length > 15))
        .then(pl.lit(issues.VALEUR_SANS_APOSTROPHES.code))
        .when(unquoted)
        .then(pl.lit(issues.VALEUR_VIDE.code))
        .otherwise(pl.lit(issues.LIGNE_MALFORMEE.code)),
    )
    readable = pl.col("issue").is_null() | (pl.col("issue") == issues.VALEUR_SANS_APOSTROPHES.code)
    envelope = (
        pl.any_horizontal([code.str.starts_with(p) for p in ENVELOPE_PREFIXES])
        | code.str.slice(0, 10).is_in(ENVELOPE_BLOCKS)
        | code.is_in(ENVELOPE_RUBRIQUES)
        # platform rubriques are numbered 9xx inside known blocks (S21.G00.06.903, ...)
        | (code.str.slice(11, 1) == "9")
    )
    known = pl.col("rid") >= 0
    return frame.with_columns(
        kind=pl.when(known & readable)
        .then(pl.lit("data"))
        .when(pl.col("code_ok") & readable & envelope)
        .then(pl.lit("envelope"))
        .otherwise(pl.lit("bad")),
        issue=pl.when(~pl.col("code_ok") & pl.col("issue").ne_missing(issues.LIGNE_VIDE.code))
        .then(pl.lit(issues.LIGNE_MALFORMEE.code))
        .when(~known & pl.col("code_ok") & readable & ~envelope)
        .then(pl.lit(issues.RUBRIQUE_INCONNUE.code))
        .otherwise(pl.col("issue")),
        rubrique=pl.when(pl.col("code_ok")).then(code),
    ).drop("code_ok")
