"""Pivot checked lines into one typed table per block, with lineage and pseudonyms.

Each row of a block table is one block instance: the ``fichier`` it comes from, its first line
``ligne``, the declared month ``mois_declaration`` (YYYY-MM), one ``<ancestor>_ligne`` column per
ancestor block (the key to join with the parent tables inside the same file), then one column per
rubrique of the block, typed from the catalogue.
"""

from __future__ import annotations

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
from datadsn.norm import Norm

LINEAGE = ["fichier", "ligne", "mois_declaration"]
ENVELOPE_TABLE = "enveloppe"
SQL_TYPES: dict[str, pl.DataType] = {
    "DATE": pl.Date(),
    "DECIMAL(18,2)": pl.Decimal(18, 2),
    "BIGINT": pl.Int64(),
    "VARCHAR": pl.String(),
}


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%Y-%m")


def _instances(data: pl.DataFrame, cat: Catalogue, blocks: list[int]) -> pl.DataFrame:
    """One row per stored block instance, in file order, with the first line of each ancestor.

    An instance exists as soon as its block starts inside a sound declaration, even if every
    value it carried was rejected: the rejections say why its columns are empty.
    """
    norm = cat.norm
    needed = sorted({a for b in blocks for a in norm.ancestors(cat.block_ids[b])})
    # Ancestors are instances too: filling forward over instance starts alone is enough.
    marks = [
        pl.when(pl.col("bidx") == cat.block_index(a))
        .then(pl.col("inst_line"))
        .when(pl.col("file_start"))
        .then(-1)
        .forward_fill()
        .alias(a)
        for a in needed
    ]
    sound = pl.col("decl_ok") & pl.col("scope_ok")
    return (
        data.filter("new")
        .select("inst", "file_idx", "bidx", "decl", "envoi", "inst_line", *marks, sound=sound)
        .filter("sound")
        .drop("sound")
    )


def build_tables(
    stored: pl.DataFrame,
    envelope: pl.DataFrame,
    data: pl.DataFrame,
    per_decl: pl.DataFrame,
    files: pl.DataFrame,
    cat: Catalogue,
    secret: Secret,
) -> dict[str, pa.Table]:
    """Arrow table per raw table name, from the lines whose values passed every check."""
    norm = cat.norm
    blocks = sorted(data.filter(pl.col("decl_ok") & pl.col("scope_ok"))["bidx"].unique().to_list())
    # Declared month of each declaration; envoi-level blocks take their envoi's first one.
    decl_month = per_decl.filter(pl.col("decl_issue").is_null()).select("decl", "envoi", "month")
    envoi_month = decl_month.group_by("envoi").agg(envoi_month=pl.col("month").min())
    instances = (
        _instances(data, cat, blocks)
        .join(decl_month.select("decl", "month"), on="decl", how="left", maintain_order="left")
        .join(envoi_month, on="envoi", how="left", maintain_order="left")
        .join(files, on="file_idx", how="left", maintain_order="left")
        .with_columns(mois_declaration=_month(pl.coalesce("month", "envoi_month")))
        .rename({"inst_line": "ligne"})
    )
    by_block = stored.select("bidx", "inst", "rid", "value").partition_by(
        "bidx", as_dict=True, include_key=False
    )
    meta_by_block = instances.partition_by(
        "bidx", as_dict=True, include_key=False, maintain_order=True
    )
    tables: dict[str, pa.Table] = {}
    for bidx in blocks:
        block_id = cat.block_ids[bidx]
        values = by_block.get(
            (bidx,), pl.DataFrame(schema={"inst": pl.Int64, "rid": pl.Int16, "value": pl.String})
        )
        wide = values.pivot(on="rid", index="inst", values="value", aggregate_function="first")
        wide = wide.rename(
            {c: norm.rubriques[cat.rubriques[int(c)]].column for c in wide.columns if c != "inst"}
        )
        parents = [
            pl.when(pl.col(a) >= 0)
            .then(pl.col(a))
            .cast(pl.Int32)
            .alias(f"{norm.blocks[a].table}_ligne")
            for a in reversed(norm.ancestors(block_id))
        ]
        meta = meta_by_block[(bidx,)]
        frame = meta.select("inst", *LINEAGE, *parents).join(
            wide, on="inst", how="left", maintain_order="left"
        )
        frame = _typed(frame, norm, block_id)
        frame = _pseudonymize(frame, norm, block_id, secret)
        tables[norm.blocks[block_id].table] = frame.drop("inst").to_arrow()
    if envelope.height:
        file_month = instances.group_by("file_idx").agg(pl.col("mois_declaration").min())
        env = (
            envelope.select(
                "file_idx", ligne=pl.col("line_no"), rubrique="rubrique", valeur="value"
            )
            .join(file_month, on="file_idx", how="left")
            .join(files, on="file_idx", how="left")
        )
        tables[ENVELOPE_TABLE] = env.select(*LINEAGE, "rubrique", "valeur").to_arrow()
    return tables


def _typed(frame: pl.DataFrame, norm: Norm, block_id: str) -> pl.DataFrame:
    """All the block's columns, in norm order, cast to their catalogue type."""
    columns = []
    for r in norm.block_rubriques(block_id):
        source = pl.col(r.column) if r.column in frame.columns else pl.lit(None, pl.String)
        if r.sql == "DATE":
            expr = source.str.strptime(pl.Date, "%d%m%Y", strict=False)
        else:
            expr = source.cast(SQL_TYPES[r.sql], strict=False)
        columns.append(expr.alias(r.column))
    keep = [c for c in frame.columns if c.endswith("_ligne") or c in ("inst", *LINEAGE)]
    return frame.select(*keep, *columns)


def _pseudonymize(frame: pl.DataFrame, norm: Norm, block_id: str, secret: Secret) -> pl.DataFrame:
    """Replace personal columns by their pseudonyms (``<column>_pseudo``)."""
    for r in norm.block_rubriques(block_id):
        kind = PERSONAL.get(r.id)
        if kind is None:
            continue
        clear = frame[r.column].cast(pl.String)
        extra: list[pl.Series] = []
        if r.id in BIRTH_DATES:
            year = clear.str.slice(4, 4).cast(pl.Int16, strict=False)
            month = clear.str.slice(2, 2).cast(pl.Int8, strict=False)
            month = month.set(~month.is_between(1, 12).fill_null(False), None)
            extra = [year.alias(f"annee_{r.column}"), month.alias(f"mois_{r.column}")]
        if r.id in POSTAL_CODES:
            extra = [
                frame.select(
                    departement(pl.col(r.column)).alias("departement_residence")
                ).to_series()
            ]
        pseudo = pseudonymize_values(secret, kind, clear).alias(f"{r.column}_pseudo")
        position = frame.columns.index(r.column)
        frame = frame.drop(r.column)
        for offset, series in enumerate([pseudo, *extra]):
            frame = frame.insert_column(position + offset, series)
    return frame
