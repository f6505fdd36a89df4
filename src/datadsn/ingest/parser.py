"""The DSN parser: bytes of DSN files in, one Arrow table per NEODES block out, plus rejections.

Pure and vectorised: a batch of files is split into lines, each line is classified, block
instances are found with the "seq" rule (a new instance starts when the block changes or the
rubrique number does not increase), the hierarchy is checked with a table of allowed block
transitions, values are checked against the catalogue, then each block is pivoted into its table.
Every row keeps its lineage: source file, first line number and the first lines of its ancestors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from datadsn.ingest import issues
from datadsn.ingest.lines import Source, classify, decode, split_lines
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.structure import (
    DECLARATION,
    ENTREPRISE,
    ENVOI,
    ETABLISSEMENT,
    FILE_START,
    ORPHAN,
    OUT_OF_ORDER,
    REPEATED,
    TOTAL,
    transitions,
)
from datadsn.ingest.tables import build_tables
from datadsn.ingest.validate import rubrique_frame, validate_values
from datadsn.norm import resolve_version

MONTH_RUBRIQUES = ("S20.G00.05.005", "S20.G00.05.007")
REJECTION_SCHEMA = pl.Schema(
    {
        "fichier": pl.String(),
        "ligne": pl.Int32(),
        "rubrique": pl.String(),
        "code": pl.String(),
        "niveau": pl.String(),
        "rejet": pl.Boolean(),
        "message": pl.String(),
        "valeur": pl.String(),
        "lignes": pl.Int64(),  # lines rejected by this row (a declaration or a file spans many)
    }
)


@dataclass
class ParsedBatch:
    """What one batch of files gives: tables per block, rejections, and line counts."""

    tables: dict[str, pa.Table]
    rejections: pl.DataFrame
    files: int = 0
    declarations: int = 0
    declarations_rejected: int = 0
    lines_read: int = 0
    lines_stored: int = 0
    lines_rejected: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    file_info: pl.DataFrame | None = None  # fichier, encodage, octets, lignes


def parse_dsn_bytes(data: bytes, source: str, secret: Secret) -> ParsedBatch:
    """Parse one DSN file (bytes) into Arrow tables and rejections."""
    return parse_batch([Source(source, data)], secret)


def parse_batch(sources: list[Source], secret: Secret) -> ParsedBatch:
    """Parse several DSN files at once (same result as parsing them one by one, faster)."""
    decoded = [decode(s.data) for s in sources]
    names = [s.name for s in sources]
    lines = classify(split_lines([text for text, _ in decoded]))
    version_per_file = _versions(lines, len(sources))
    parts = []
    for version in sorted(set(version_per_file)):
        files = [i for i, v in enumerate(version_per_file) if v == version]
        part = lines.filter(pl.col("file_idx").is_in(files))
        parts.append(_parse_lines(part, names, version, secret))
    batch = _merge(parts)
    batch.files = len(sources)
    per_file = lines.group_by("file_idx").agg(lignes=pl.len().cast(pl.Int64))
    batch.file_info = (
        pl.DataFrame(
            {
                "file_idx": range(len(sources)),
                "fichier": names,
                "encodage": [e for _, e in decoded],
                "octets": [len(s.data) for s in sources],
            },
            schema_overrides={"file_idx": pl.Int32(), "octets": pl.Int64},
        )
        .join(per_file.with_columns(pl.col("file_idx").cast(pl.Int32)), on="file_idx", how="left")
        .with_columns(pl.col("lignes").fill_null(0))
        .drop("file_idx")
    )
    for _, encoding in decoded:
        batch.encodings[encoding] = batch.encodings.get(encoding, 0) + 1
    return batch


def _versions(lines: pl.DataFrame, n_files: int) -> list[str]:
    """The shipped norm version used for each file (from its first S10.G00.00.006)."""
    declared = (
        lines.filter(pl.col("rubrique") == "S10.G00.00.006")
        .group_by("file_idx")
        .agg(pl.col("value").first())
    )
    by_file = dict(zip(declared["file_idx"].to_list(), declared["value"].to_list(), strict=True))
    out = []
    for i in range(n_files):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(resolve_version(by_file.get(i))[0])
    return out


def _parse_lines(
    lines: pl.DataFrame, names: list[str], version: str, secret: Secret
) -> ParsedBatch:
    files = pl.DataFrame(
        {"file_idx": range(len(names)), "fichier": names},
        schema={"file_idx": pl.Int32(), "fichier": pl.String},
    )
    declared = (
        lines.filter(pl.col("rubrique") == "S10.G00.00.006")
        .group_by("file_idx")
        .agg(approx=pl.col("value").first() != version)
    )
    lines = lines.join(declared, on="file_idx", how="left").with_columns(
        approx=pl.col("approx").fill_null(True)
    )
    non_dsn = _non_dsn_files(lines)
    lines = lines.filter(~pl.col("file_idx").is_in(non_dsn["file_idx"].implode()))
    catalogue = rubrique_frame(version)
    lines = lines.join(catalogue, on="rubrique", how="left")
    lines = lines.with_columns(
        kind=pl.when((pl.col("kind") == "data") & pl.col("datatype").is_null())
        .then(pl.lit("bad"))
        .otherwise(pl.col("kind")),
        issue=pl.when((pl.col("kind") == "data") & pl.col("datatype").is_null())
        .then(pl.lit(issues.RUBRIQUE_INCONNUE.code))
        .otherwise(pl.col("issue")),
    )
    data = _structure(lines.filter(pl.col("kind") == "data"), version)
    data = _reject_declarations(data)
    kept = data.filter(pl.col("decl_issue").is_null() & pl.col("scope_ok"))
    value_issue = validate_values(kept, version)
    warnings_only = [c for c, t in issues.ALL.items() if not t.rejects]
    kept = kept.with_columns(value_issue=value_issue)
    stored = kept.filter(
        pl.col("value_issue").is_null() | pl.col("value_issue").is_in(warnings_only)
    )
    envelope = lines.filter(pl.col("kind") == "envelope")
    tables = build_tables(stored, envelope, data, files, secret)
    rejections = _rejections(lines, data, kept, non_dsn, version, files)
    n_read = lines.height + int(non_dsn["n_lines"].sum() or 0)
    n_rejected = int(rejections.filter(pl.col("rejet"))["lignes"].sum() or 0)
    declarations = data.filter(pl.col("block") == DECLARATION).select("decl").n_unique()
    rejected_decls = data.filter(pl.col("decl_issue").is_not_null()).select("decl").n_unique()
    n_files = lines.select("file_idx").n_unique() + non_dsn.height
    return ParsedBatch(
        tables=tables,
        rejections=rejections,
        declarations=declarations,
        declarations_rejected=rejected_decls,
        lines_read=n_read,
        lines_rejected=n_rejected,
        lines_stored=n_read - n_rejected,
        versions={version: n_files},
    )


def _non_dsn_files(lines: pl.DataFrame) -> pl.DataFrame:
    """Files in which no line looks like a rubrique: one clear error each."""
    return (
        lines.group_by("file_idx")
        .agg(
            n_lines=pl.len().cast(pl.Int64),
            n_ok=(pl.col("rubrique").is_not_null()).sum(),
        )
        .filter(pl.col("n_ok") == 0)
        .sort("file_idx")
    )


def _structure(data: pl.DataFrame, version: str) -> pl.DataFrame:
    """Block instances, their parents, declaration and envoi of every data line."""
    prev_block = pl.col("block").shift(1)
    file_start = pl.col("file_idx") != pl.col("file_idx").shift(1)
    new = (
        file_start.fill_null(True)
        | (pl.col("block") != prev_block).fill_null(True)
        | (pl.col("num") <= pl.col("num").shift(1)).fill_null(True)
    )
    data = data.with_columns(new=new).with_columns(
        inst=pl.col("new").cum_sum().cast(pl.Int64),
        # Only instance starts are looked up in the transitions table: other lines get null.
        prev_block=pl.when(file_start.fill_null(True))
        .then(pl.lit(FILE_START))
        .when(pl.col("new"))
        .then(prev_block),
        inst_line=pl.when(pl.col("new")).then(pl.col("line_no")).forward_fill(),
    )
    data = data.join(transitions(version), on=["prev_block", "block"], how="left")
    # The declaration and envoi each line belongs to (reset at file start, envoi, total).
    is_start = pl.col("new")
    decl_mark = (
        pl.when(is_start & (pl.col("block") == DECLARATION))
        .then(pl.col("inst"))
        .when((is_start & pl.col("block").is_in([ENVOI, TOTAL])) | file_start.fill_null(True))
        .then(-1)
    )
    envoi_mark = (
        pl.when(is_start & (pl.col("block") == ENVOI))
        .then(pl.col("inst"))
        .when(file_start.fill_null(True))
        .then(-1)
    )
    data = data.with_columns(
        decl=decl_mark.forward_fill(), envoi=envoi_mark.forward_fill()
    ).with_columns(
        decl=pl.when(pl.col("decl") >= 0).then(pl.col("decl")),
        envoi=pl.when(pl.col("envoi") >= 0).then(pl.col("envoi")),
    )
    in_declaration_blocks = ~pl.col("block").is_in([ENVOI, TOTAL, "S10.G00.01", "S10.G00.02"])
    return data.with_columns(
        scope_ok=pl.when(in_declaration_blocks)
        .then(pl.col("decl").is_not_null())
        .otherwise(pl.col("envoi").is_not_null())
    )


def _reject_declarations(data: pl.DataFrame) -> pl.DataFrame:
    """First structural problem of each declaration (null when the declaration is sound)."""
    structural = (
        pl.when(pl.col("verdict") == ORPHAN)
        .then(pl.lit(issues.BLOC_ORPHELIN.code))
        .when(pl.col("verdict") == OUT_OF_ORDER)
        .then(pl.lit(issues.BLOC_HORS_ORDRE.code))
    )
    data = data.with_columns(line_issue=structural)
    decl_lines = data.filter(pl.col("decl").is_not_null())
    per_decl = decl_lines.group_by("decl").agg(
        first_issue=pl.col("line_issue").drop_nulls().first(),
        has_06=(pl.col("block") == ENTREPRISE).any(),
        has_11=(pl.col("block") == ETABLISSEMENT).any(),
        # Signalements (FCTU...) have no declared month: the file's constitution date stands in.
        month=pl.coalesce(
            pl.col("value").filter(pl.col("rubrique") == rub).first() for rub in MONTH_RUBRIQUES
        )
        .str.strptime(pl.Date, "%d%m%Y", strict=False)
        .dt.month_start(),
        envoi=pl.col("envoi").first(),
    )
    # An envoi without its total (S90) was cut: its last declaration is incomplete.
    envois_with_total = data.filter(pl.col("block") == TOTAL).select("envoi").unique()
    last_decl = per_decl.group_by("envoi").agg(pl.col("decl").max().alias("last"))
    truncated = last_decl.join(envois_with_total, on="envoi", how="anti")["last"]
    per_decl = per_decl.with_columns(
        decl_issue=pl.when(pl.col("first_issue").is_not_null())
        .then(pl.col("first_issue"))
        .when(~pl.col("has_06") | ~pl.col("has_11"))
        .then(pl.lit(issues.DECLARATION_INCOMPLETE.code))
        .when(pl.col("decl").is_in(truncated.implode()))
        .then(pl.lit(issues.FICHIER_TRONQUE.code))
        .when(pl.col("month").is_null())
        .then(pl.lit(issues.MOIS_DECLARE_INVALIDE.code))
    )
    data = data.join(per_decl.select("decl", "decl_issue", "month"), on="decl", how="left")
    # Envoi-level rows (S10, S90) take the month of the envoi's first sound declaration.
    envoi_month = (
        data.filter(pl.col("decl_issue").is_null() & pl.col("month").is_not_null())
        .group_by("envoi")
        .agg(envoi_month=pl.col("month").first())
    )
    data = data.join(envoi_month, on="envoi", how="left")
    return data.with_columns(month=pl.coalesce("month", "envoi_month")).drop("envoi_month")


def _rejections(
    lines: pl.DataFrame,
    data: pl.DataFrame,
    kept: pl.DataFrame,
    non_dsn: pl.DataFrame,
    version: str,
    files: pl.DataFrame,
) -> pl.DataFrame:
    """One row per problem: line-level, declaration-level and file-level, rejects and warnings."""
    from datadsn.ingest.pseudonymize import PERSONAL

    def masked(value: pl.Expr) -> pl.Expr:
        # Never copy a personal value into the report: the rubrique says enough.
        return (
            pl.when(pl.col("rubrique").is_in(list(PERSONAL)))
            .then(pl.lit("***"))
            .otherwise(value.str.slice(0, 120))
        )

    base = ["file_idx", "line_no", "rubrique", "code"]
    parts = []
    # Lines that could not be read, or unknown rubriques.
    bad = lines.filter(pl.col("kind") == "bad").with_columns(
        code=pl.col("issue"), valeur=masked(pl.coalesce("value", "line"))
    )
    parts.append(bad.select(*base, "valeur", lignes=pl.lit(1, pl.Int64)))
    # Warnings on kept lines (value without apostrophes).
    warn = lines.filter((pl.col("kind") != "bad") & pl.col("issue").is_not_null())
    parts.append(
        warn.with_columns(code=pl.col("issue"), valeur=masked(pl.col("value"))).select(
            *base, "valeur", lignes=pl.lit(0, pl.Int64)
        )
    )
    # Whole declarations rejected for a structural problem.
    decls = (
        data.filter(pl.col("decl_issue").is_not_null())
        .group_by("decl")
        .agg(
            pl.col("file_idx").first(),
            pl.col("line_no").min(),
            code=pl.col("decl_issue").first(),
            rubrique=pl.col("rubrique").filter(pl.col("line_issue").is_not_null()).first(),
            lignes=pl.len().cast(pl.Int64),
        )
    )
    parts.append(decls.select(*base, valeur=pl.lit(None, pl.String), lignes="lignes"))
    # Lines outside any declaration or envoi.
    outside = data.filter(pl.col("decl_issue").is_null() & ~pl.col("scope_ok"))
    parts.append(
        outside.with_columns(code=pl.lit(issues.HORS_DECLARATION.code)).select(
            *base, valeur=masked(pl.col("value")), lignes=pl.lit(1, pl.Int64)
        )
    )
    # Repeated 1..1 blocks: kept, but said.
    repeated = data.filter(pl.col("verdict") == REPEATED)
    parts.append(
        repeated.with_columns(code=pl.lit(issues.BLOC_REPETE.code)).select(
            *base, valeur=pl.lit(None, pl.String), lignes=pl.lit(0, pl.Int64)
        )
    )
    # Values outside their format or code list.
    values = kept.filter(pl.col("value_issue").is_not_null())
    parts.append(
        values.with_columns(code=pl.col("value_issue")).select(
            *base,
            valeur=masked(pl.col("value")),
            lignes=pl.when(pl.col("code") == issues.CODE_NON_VERIFIE.code).then(0).otherwise(1),
        )
    )
    # Norm version mapped to a shipped one.
    declared = lines.filter(pl.col("rubrique") == "S10.G00.00.006").unique("file_idx", keep="first")
    mapped = declared.filter(pl.col("value") != version)
    parts.append(
        mapped.with_columns(code=pl.lit(issues.NORME_APPROCHEE.code)).select(
            *base, valeur=pl.col("value"), lignes=pl.lit(0, pl.Int64)
        )
    )
    parts.append(
        non_dsn.select(
            "file_idx",
            line_no=pl.lit(None, pl.Int32),
            rubrique=pl.lit(None, pl.String),
            code=pl.lit(issues.FICHIER_NON_DSN.code),
            valeur=pl.lit(None, pl.String),
            lignes="n_lines",
        )
    )
    out = pl.concat(
        [p.with_columns(pl.col("line_no").cast(pl.Int32)) for p in parts], how="vertical_relaxed"
    ).rename({"line_no": "ligne"})
    out = out.join(files, on="file_idx", how="left")
    meta = pl.DataFrame(
        {
            "code": list(issues.ALL),
            "niveau": [t.level.value for t in issues.ALL.values()],
            "rejet": [t.rejects for t in issues.ALL.values()],
            "message": [t.message for t in issues.ALL.values()],
        }
    )
    out = out.join(meta, on="code", how="left").with_columns(
        message=pl.when(pl.col("code") == issues.NORME_APPROCHEE.code)
        .then(pl.format("norme {} non livrée : catalogue {} utilisé", "valeur", pl.lit(version)))
        .otherwise(pl.col("message"))
    )
    return out.select(list(REJECTION_SCHEMA)).cast(REJECTION_SCHEMA).sort("fichier", "ligne")


def _merge(parts: list[ParsedBatch]) -> ParsedBatch:
    if len(parts) == 1:
        return parts[0]
    tables: dict[str, list[pa.Table]] = {}
    for part in parts:
        for name, table in part.tables.items():
            tables.setdefault(name, []).append(table)
    merged = ParsedBatch(
        tables={n: pa.concat_tables(t, promote_options="permissive") for n, t in tables.items()},
        rejections=pl.concat([p.rejections for p in parts]) if parts else _empty_rejections(),
    )
    for part in parts:
        merged.declarations += part.declarations
        merged.declarations_rejected += part.declarations_rejected
        merged.lines_read += part.lines_read
        merged.lines_stored += part.lines_stored
        merged.lines_rejected += part.lines_rejected
        for k, v in part.versions.items():
            merged.versions[k] = merged.versions.get(k, 0) + v
    return merged


def _empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTION_SCHEMA)
