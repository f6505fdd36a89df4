"""Pivot checked lines into one typed table per block, with lineage and pseudonyms.

Each row of a block table is one block instance: the ``fichier`` it comes from, its first line
``ligne``, the declared month ``mois_declaration`` (YYYY-MM), one ``<ancestor>_ligne`` column per
ancestor block (the key to join with the parent tables inside the same file), then one column per
rubrique of the block, typed from the catalogue.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from datadsn.ingest.catalogue import Catalogue
from datadsn.ingest.pseudonymize import (
    BIRTH_DATES,
    PERSONAL,
    POSTAL_CODES,
    Secret,
    departement,
    pseudonymize_values,
)
from datadsn.ingest.structure import DECLARATION
from datadsn.norm import Rubrique, load_norm

LINEAGE = ["fichier", "ligne", "mois_declaration"]
FINGERPRINT = ["empreinte", "lignes_rangees"]  # columns of the declaration table only
ENVELOPE_TABLE = "enveloppe"
SQL_TYPES: dict[str, pl.DataType] = {
    "DATE": pl.Date(),
    "DECIMAL(18,2)": pl.Decimal(18, 2),
    "BIGINT": pl.Int64(),
    "VARCHAR": pl.String(),
}


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%Y-%m")


def _instances(
    data: pl.DataFrame, cat: Catalogue, carried: dict[int, int]
) -> tuple[pl.DataFrame, list[int]]:
    """One row per stored block instance, in file order, with the first line of each ancestor.

    An instance exists as soon as its block starts inside a sound declaration, even if every
    value it carried was rejected: the rejections say why its columns are empty. Also returns
    the blocks that have instances, in catalogue order. ``carried``: in a piece of a file, the
    line of the last instance of each block before the piece.
    """
    norm = cat.norm
    starts = data.filter("new").select(
        "inst",
        "file_idx",
        "bidx",
        "decl",
        "envoi",
        "inst_line",
        "file_start",
        sound=pl.col("decl_ok") & pl.col("scope_ok"),
    )
    blocks = sorted(starts.filter("sound")["bidx"].unique().to_list())
    needed = sorted({a for b in blocks for a in norm.ancestors(cat.block_ids[b])})
    # Ancestors are instances too: filling forward over instance starts alone is enough.
    marks = [
        pl.when(pl.col("bidx") == cat.block_index(a))
        .then(pl.col("inst_line"))
        .when(pl.col("file_start"))
        .then(carried.get(cat.block_index(a), -1))
        .forward_fill()
        .alias(a)
        for a in needed
    ]
    instances = starts.with_columns(*marks).filter("sound").drop("sound", "file_start")
    return instances, blocks


def build_tables(
    stored: pl.DataFrame,
    envelope: pl.DataFrame,
    data: pl.DataFrame,
    per_decl: pl.DataFrame,
    files: pl.DataFrame,
    cat: Catalogue,
    secret: Secret,
    carried: dict[int, int] | None = None,
    carried_month: dt.date | None = None,
    held_envoi: int | None = None,
) -> tuple[dict[str, pa.Table], dict[str, pa.Table]]:
    """Arrow table per raw table name, from the lines whose values passed every check.

    In a piece of a file: ``carried`` and ``carried_month`` are what the pieces before it found
    (last line of each block, earliest month of the envoi the piece starts in, id 0), and the
    envoi-level rows of ``held_envoi``, whose month depends on the next pieces, come apart (the
    second dict of tables)."""
    norm = cat.norm
    instances, blocks = _instances(data, cat, carried or {})
    # Declared month of each declaration; envoi-level blocks take their envoi's first one.
    decl_month = per_decl.filter(pl.col("decl_issue").is_null()).select("decl", "envoi", "month")
    envoi_month = decl_month.group_by("envoi").agg(envoi_month=pl.col("month").min())
    if carried_month is not None:
        before = pl.DataFrame({"envoi": [0], "envoi_month": [carried_month]})
        envoi_month = (
            pl.concat([envoi_month, before], how="vertical_relaxed")
            .group_by("envoi")
            .agg(pl.col("envoi_month").min())
        )
    instances = (
        instances.join(
            per_decl.select("decl", *FINGERPRINT), on="decl", how="left", maintain_order="left"
        )
        .join(decl_month.select("decl", "month"), on="decl", how="left", maintain_order="left")
        .join(envoi_month, on="envoi", how="left", maintain_order="left")
        .join(files, on="file_idx", how="left", maintain_order="left")
        .with_columns(
            mois_declaration=_month(pl.coalesce("month", "envoi_month")),
            row=pl.int_range(pl.len(), dtype=pl.Int64).over("bidx"),
            held=pl.lit(False)
            if held_envoi is None
            else pl.col("decl").is_null() & (pl.col("envoi") == held_envoi).fill_null(False),
        )
        .rename({"inst_line": "ligne"})
    )
    meta_by_block = instances.partition_by(
        "bidx", as_dict=True, include_key=False, maintain_order=True
    )
    values_by_rid = _values_by_rubrique(stored, instances)
    tables: dict[str, pa.Table] = {}
    held: dict[str, pa.Table] = {}
    for bidx in blocks:
        block_id = cat.block_ids[bidx]
        meta = meta_by_block[(bidx,)]
        parents = [
            pl.when(pl.col(a) >= 0)
            .then(pl.col(a))
            .cast(pl.Int32)
            .alias(f"{norm.blocks[a].table}_ligne")
            for a in reversed(norm.ancestors(block_id))
        ]
        columns: list[pl.Series | pl.Expr] = []
        for r in _rubriques(norm.version, block_id):
            found = values_by_rid.get(cat.rid[r.id])
            columns.extend(_columns(r, found, meta.height, secret))
        frame = meta.select(*LINEAGE, *parents).with_columns(columns)
        if block_id == DECLARATION:  # what deduplication needs (see parser._fingerprints)
            frame = frame.with_columns(meta.select(*FINGERPRINT))
        name = norm.blocks[block_id].table
        if held_envoi is not None and meta["held"].any():  # a few envoi-level rows
            held[name] = _arrow(frame.filter(meta["held"]))
            frame = frame.filter(~meta["held"])
        if frame.height:
            tables[name] = _arrow(frame)
    if envelope.height:
        file_month = instances.group_by("file_idx").agg(pl.col("mois_declaration").min())
        env = (
            envelope.select(
                "file_idx", ligne=pl.col("line_no"), rubrique="rubrique", valeur="value"
            )
            .join(file_month, on="file_idx", how="left")
            .join(files, on="file_idx", how="left")
        )
        tables[ENVELOPE_TABLE] = _arrow(env.select(*LINEAGE, "rubrique", "valeur"))
    return tables, held


def _arrow(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow without copying: strings stay Arrow string views, as Polars holds
    them (the default export copies every string into a large_string array: 0.02-0.04 s a
    chunk). Parquet, DuckDB and Polars read them as strings."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


def _values_by_rubrique(
    stored: pl.DataFrame, instances: pl.DataFrame
) -> dict[int, tuple[np.ndarray, pl.Series]]:
    """Per rubrique index: the row of each stored value in its block's table, and the values.

    Instances are numbered densely in file order, so an array maps an instance to its row.
    Within an instance rubrique numbers strictly increase: a (row, rubrique) pair is unique,
    which makes this scatter the same as a pivot, at a fraction of its cost.
    """
    if not stored.height:
        return {}
    inst = instances["inst"].to_numpy()
    row_of = np.zeros(int(max(inst.max(), stored["inst"].max())) + 1, dtype=np.int64)
    row_of[inst] = instances["row"].to_numpy()
    placed = stored.select("rid", "value", row=pl.Series(row_of[stored["inst"].to_numpy()]))
    return {
        int(rid): (part["row"].to_numpy(), part["value"])
        for (rid,), part in placed.partition_by("rid", as_dict=True).items()
    }


@cache
def _rubriques(version: str, block_id: str) -> list[Rubrique]:
    return load_norm(version).block_rubriques(block_id)


def _columns(
    r: Rubrique, found: tuple[np.ndarray, pl.Series] | None, height: int, secret: Secret
) -> list[pl.Series | pl.Expr]:
    """The table columns of one rubrique: typed values at their rows, or pseudonyms and the
    statistics kept beside them for personal data."""
    rows, values = found if found is not None else (np.zeros(0, np.int64), _NO_VALUES)
    if len(values) == height:  # a value on every row, in row order
        gather = None
    else:  # each row points at its value, or past the end (a null) when it has none
        index = np.full(height, len(values), dtype=np.int64)
        index[rows] = np.arange(len(values))
        gather = pl.Series(index)

    def spread(series: pl.Series, name: str) -> pl.Series | pl.Expr:
        if gather is None:
            return series.alias(name)
        if not len(series):  # a typed null, broadcast to the table's rows
            return pl.lit(None, series.dtype).alias(name)
        return series.extend_constant(None, 1).gather(gather).alias(name)

    typed = _typed(values, r.sql)
    kind = PERSONAL.get(r.id)
    if kind is None:
        return [spread(typed, r.column)]
    clear = typed.cast(pl.String)
    out: list[pl.Series | pl.Expr] = [
        spread(pseudonymize_values(secret, kind, clear), f"{r.column}_pseudo")
    ]
    if r.id in BIRTH_DATES:
        year = clear.str.slice(4, 4).cast(pl.Int16, strict=False)
        month = clear.str.slice(2, 2).cast(pl.Int8, strict=False)
        month = month.set(~month.is_between(1, 12).fill_null(False), None)
        out += [spread(year, f"annee_{r.column}"), spread(month, f"mois_{r.column}")]
    if r.id in POSTAL_CODES:
        department = clear.to_frame("code").select(departement(pl.col("code"))).to_series()
        out.append(spread(department, "departement_residence"))
    return out


_NO_VALUES = pl.Series("value", [], pl.String)


def _typed(values: pl.Series, sql: str) -> pl.Series:
    """Values cast to their catalogue type (null where they do not convert)."""
    if sql == "DATE":
        return values.str.strptime(pl.Date, "%d%m%Y", strict=False)
    return values.cast(SQL_TYPES[sql], strict=False)
