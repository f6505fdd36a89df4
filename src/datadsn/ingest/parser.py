"""The DSN parser: bytes of DSN files in, one Arrow table per NEODES block out, plus rejections.

Pure and vectorised: a batch of files is split into lines, each line is classified, block
instances are found with the "seq" rule (a new instance starts when the block changes or the
rubrique number does not increase), the hierarchy is checked with a table of allowed block
transitions, values are checked against the catalogue, then each block is pivoted into its table.
Every row keeps its lineage: source file, first line number and the first lines of its ancestors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from datadsn.ingest import issues
from datadsn.ingest.catalogue import NO_BLOCK, VERDICTS, Catalogue, catalogue, transition_key
from datadsn.ingest.lines import Source, classify, decode, lf_only, split_lines
from datadsn.ingest.pseudonymize import PERSONAL, Secret
from datadsn.ingest.sources import DECLARATION_CUT, FileFacts
from datadsn.ingest.structure import (
    DECLARATION,
    ENTREPRISE,
    ENVOI,
    ETABLISSEMENT,
    ORPHAN,
    OUT_OF_ORDER,
    REPEATED,
    TOTAL,
)
from datadsn.ingest.tables import build_tables
from datadsn.ingest.validate import validate_values
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
class Counts:
    """What was read, stored and rejected; adds up over batches and chunks."""

    files: int = 0
    declarations: int = 0
    declarations_rejected: int = 0
    lines_read: int = 0
    lines_stored: int = 0
    lines_rejected: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        """Add ``other``'s counts: the numbers and the dicts of numbers, of this class and of
        subclasses alike (a batch's tables, also a dict, are not counts)."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name, None)
            if isinstance(mine, int) and isinstance(theirs, int):
                setattr(self, item.name, mine + theirs)
            elif _counter(mine) and _counter(theirs):
                merged = Counter(mine)
                merged.update(theirs)
                setattr(self, item.name, dict(sorted(merged.items())))


def _counter(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, int) for v in value.values())


@dataclass(frozen=True)
class Carry:
    """What a piece of a large file inherits from the pieces before it (see ``ingest.pieces``).

    A piece starts at an envoi's or a declaration's first line. The parser of a piece starts
    from this state instead of a file's start, so that the pieces give what the whole file
    gives. The envoi the piece starts in, when it started before (a declaration cut), has the
    local id 0 in the piece.
    """

    piece: int = 0  # index of the piece in its file
    first_line: int = 0  # lines of the file before the piece
    prev_block: int = NO_BLOCK  # block index of the last data line before the piece
    starts: dict[int, int] = field(default_factory=dict)  # block index -> line of its last start
    envoi_line: int | None = None  # first line of the envoi the piece starts in, if any
    envoi_decls: int = 0  # its declarations before the piece
    envoi_added: int = 0  # lot and platform lines after its first line, before the piece
    envoi_total: bool = False  # its total (S90) came before the piece
    envoi_month: dt.date | None = None  # earliest month of its sound declarations so far
    file_month: dt.date | None = None  # earliest month of the file's sound declarations so far
    approx_done: bool = False  # the file's NORME_APPROCHEE warning was written


@dataclass
class ParsedBatch(Counts):
    """What one batch of files gives: tables per block, rejections, and its counts."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    rejections: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTION_SCHEMA))
    file_info: pl.DataFrame | None = None  # fichier, encodage, octets, lignes
    # Pieces only: the state the next piece starts from, the envoi-level rows of the envoi that
    # goes on in the next piece (their month is known when it ends), and, when the envoi the
    # piece started in ends in it, that envoi's month.
    carry: Carry | None = None
    held: dict[str, pa.Table] = field(default_factory=dict)
    closes_envoi: bool = False
    closed_month: dt.date | None = None


def parse_dsn_bytes(data: bytes, source: str, secret: Secret) -> ParsedBatch:
    """Parse one DSN file (bytes) into Arrow tables and rejections."""
    return parse_batch([Source(source, data)], secret)


def parse_batch(sources: list[Source], secret: Secret) -> ParsedBatch:
    """Parse several DSN files at once (same result as parsing them one by one, faster)."""
    decoded = [decode(s.data) for s in sources]
    names = [s.name for s in sources]
    blobs = [blob for blob, _ in decoded]
    lines = split_lines(blobs)
    declared = _declared_versions(lines)
    version_per_file = [_resolve(declared.get(i)) for i in range(len(sources))]
    parts = []
    for version in sorted(set(version_per_file)):
        files = [i for i, v in enumerate(version_per_file) if v == version]
        part = (
            lines if len(files) == len(sources) else lines.filter(pl.col("file_idx").is_in(files))
        )
        parts.append(_parse_lines(part, files, names, blobs, declared, version, secret))
    batch = _merge(parts)
    batch.files = len(sources)
    batch.file_info = file_info(
        names,
        [e for _, e in decoded],
        [len(s.data) for s in sources],
        _per_file(lines, len(sources)).tolist(),
    )
    for _, encoding in decoded:
        batch.encodings[encoding] = batch.encodings.get(encoding, 0) + 1
    return batch


def parse_piece(
    data: bytes, name: str, facts: FileFacts, secret: Secret, carry: Carry, cut: str | None
) -> ParsedBatch:
    """Parse one piece of a large file (its lines from ``carry.first_line + 1``), ``cut`` being
    the kind of the cut that ends it (None: the file's last piece). Counts files, encodings and
    file info nowhere: the caller does, once per file."""
    blob, _ = decode(data, facts.encoding)
    lines = split_lines([blob])
    if carry.first_line:
        lines = lines.with_columns(pl.col("line_no") + pl.lit(carry.first_line, pl.Int32))
    declared = {} if facts.version is None else {0: facts.version}
    version = _resolve(facts.version)
    batch = _parse_lines(lines, [0], [name], [blob], declared, version, secret, carry, cut)
    if carry.piece:
        batch.versions = {}
    return batch


def non_dsn_batch(name: str, facts: FileFacts) -> ParsedBatch:
    """What parsing a file with no line like a rubrique gives (FICHIER_NON_DSN over all its
    lines), from its scan alone: such a file has no envoi or declaration to cut it at, and
    parsing a large one whole would take 10 to 25 times its size in memory."""
    kind = issues.FICHIER_NON_DSN
    return ParsedBatch(
        files=1,
        lines_read=facts.lines,
        lines_rejected=facts.lines,
        encodings={facts.encoding: 1},
        versions={_resolve(facts.version): 1},
        rejections=file_rejections([name], [kind], [kind.message], [facts.lines]),
        file_info=file_info([name], [facts.encoding], [facts.size], [facts.lines]),
    )


def file_info(
    names: list[str], encodings: list[str | None], octets: list[int], lines: list[int]
) -> pl.DataFrame:
    """The rows of ``raw.fichiers``: one per file read, or rejected unread."""
    return pl.DataFrame(
        {"fichier": names, "encodage": encodings, "octets": octets, "lignes": lines},
        schema={
            "fichier": pl.String,
            "encodage": pl.String,
            "octets": pl.Int64,
            "lignes": pl.Int64,
        },
    )


def file_rejections(
    names: list[str], kinds: list[issues.IssueType], messages: list[str], lines: list[int]
) -> pl.DataFrame:
    """Rejections of whole files (no line, no rubrique, no value)."""
    return pl.DataFrame(
        {
            "fichier": names,
            "ligne": None,
            "rubrique": None,
            "code": [k.code for k in kinds],
            "niveau": [k.level.value for k in kinds],
            "rejet": [k.rejects for k in kinds],
            "message": messages,
            "valeur": None,
            "lignes": lines,
        },
        schema=REJECTION_SCHEMA,
    )


VERSION_PREFIX = "S10.G00.00.006,'"


def _declared_versions(lines: pl.DataFrame) -> dict[int, str]:
    """The norm version each file declares (its first S10.G00.00.006)."""
    found = (
        lines.filter(pl.col("raw").str.starts_with(VERSION_PREFIX))
        .group_by("file_idx")
        .agg(version=pl.col("raw").first().str.slice(len(VERSION_PREFIX)).str.strip_suffix("'"))
    )
    return dict(zip(found["file_idx"].to_list(), found["version"].to_list(), strict=True))


@cache  # once per declared version, not per file
def _resolve(version: str | None) -> str:
    return resolve_version(version)[0]  # the warning it returns becomes NORME_APPROCHEE


def _parse_lines(
    lines: pl.DataFrame,
    group: list[int],
    names: list[str],
    blobs: list[bytes],
    declared: dict[int, str],
    version: str,
    secret: Secret,
    carry: Carry | None = None,
    cut: str | None = None,
) -> ParsedBatch:
    whole = carry is None
    carry = carry or Carry()
    cat = catalogue(version)
    files = pl.DataFrame(
        {"file_idx": range(len(names)), "fichier": names},
        schema={"file_idx": pl.Int32(), "fichier": pl.String},
    )
    data, other = classify(lines, cat)
    # A file in several pieces has data lines (those where it was cut): it is a DSN.
    non_dsn = _non_dsn_files(
        group if whole or (carry.piece == 0 and cut is None) else [], lines, data, other
    )
    if non_dsn.height:
        dropped = non_dsn["file_idx"].implode()
        other = other.filter(~pl.col("file_idx").is_in(dropped))
    exact = [i for i, v in declared.items() if v == version]
    data = data.select(
        "file_idx",
        "line_no",
        "rid",
        "value",
        "issue",
        bidx=pl.lit(cat.rid_block).gather(pl.col("rid")),
        num=pl.lit(cat.rid_num).gather(pl.col("rid")),
        approx=~pl.col("file_idx").is_in(exact),
    )
    data = _structure(data, cat, carry)
    # the envoi that goes on in the next piece (the last data line's), if the piece ends in one
    open_end = data["envoi"][-1] if cut == DECLARATION_CUT and data.height else None
    data, per_decl = _reject_declarations(data, cat, carry, cut == DECLARATION_CUT, open_end)
    kept = data.filter(pl.col("decl_ok") & pl.col("scope_ok"))
    kept = kept.with_columns(value_issue=validate_values(kept, cat))
    warnings_only = [c for c, t in issues.ALL.items() if not t.rejects]
    stored = kept.filter(
        pl.col("value_issue").is_null() | pl.col("value_issue").is_in(warnings_only)
    )
    envelope = other.filter(pl.col("kind") == "envelope")
    fingerprints = _fingerprints(data, stored, blobs, carry.first_line)
    per_decl = per_decl.join(fingerprints, on="decl", how="left")
    tables, held = build_tables(
        stored,
        envelope,
        data,
        per_decl,
        files,
        cat,
        secret,
        carry.starts,
        carry.envoi_month,
        open_end,
    )
    rejections = _rejections(
        other, data, kept, per_decl, non_dsn, version, declared, files, cat, carry
    )
    n_read = lines.height
    n_rejected = int(rejections.filter(pl.col("rejet"))["lignes"].sum() or 0)
    return ParsedBatch(
        carry=None
        if whole
        else _next_carry(carry, data, envelope, per_decl, cat, open_end, n_read, rejections),
        held=held,
        closes_envoi=carry.envoi_line is not None and open_end != 0,
        closed_month=_earliest(carry.envoi_month, _months(per_decl, 0)),
        tables=tables,
        rejections=rejections,
        declarations=per_decl.height,
        declarations_rejected=per_decl.filter(pl.col("decl_issue").is_not_null()).height,
        lines_read=n_read,
        lines_rejected=n_rejected,
        lines_stored=n_read - n_rejected,
        versions={version: lines.select("file_idx").n_unique()},
    )


def _fingerprints(
    data: pl.DataFrame, stored: pl.DataFrame, blobs: list[bytes], first_line: int = 0
) -> pl.DataFrame:
    """Per declaration: ``empreinte``, a SHA-256 of its text (from its first line to its last,
    decoded to UTF-8 and with LF line ends: the same declaration from any file, under any name,
    in any encoding or line ending, has the same one), and
    ``lignes_rangees``, the lines of it that are stored. Ingestion stores a declaration once
    whatever the lots that bring it (``ingest/duplicates.py``). Hashing slices of the file
    bytes costs a fifth of hashing the declaration's lines joined again. A piece of a large
    file (its lines from ``first_line + 1``) holds whole declarations."""
    # Lines are in file order and a declaration's lines follow each other: the rows where the
    # declaration changes are enough to find its first and last lines.
    decl = pl.col("decl")
    edges = (decl != decl.shift(1)).fill_null(True) | (decl != decl.shift(-1)).fill_null(True)
    spans = (
        data.select("decl", "file_idx", "line_no")
        .filter(edges & decl.is_not_null())
        .group_by("decl")
        .agg(
            pl.col("file_idx").first(), first=pl.col("line_no").min(), last=pl.col("line_no").max()
        )
        .sort("decl")
    )
    texts: dict[int, tuple[bytes, np.ndarray]] = {}  # per file: LF text, offset past each line
    digests = []
    for idx, first, last in spans.select("file_idx", "first", "last").iter_rows():
        first, last = first - first_line, last - first_line  # lines of a piece: of its blob
        if idx not in texts:
            blob = lf_only(blobs[idx])
            breaks = np.flatnonzero(np.frombuffer(blob, np.uint8) == 10)
            texts[idx] = blob, np.append(breaks, len(blob))
        blob, ends = texts[idx]
        start = 0 if first == 1 else int(ends[first - 2]) + 1
        digests.append(hashlib.sha256(blob[start : int(ends[last - 1])]).hexdigest()[:32])
    counts = stored.select("decl").drop_nulls().group_by("decl").agg(lignes_rangees=pl.len())
    return (
        spans.select("decl", empreinte=pl.Series(digests, dtype=pl.String))
        .join(counts, on="decl", how="left")
        .with_columns(pl.col("lignes_rangees").fill_null(0).cast(pl.Int64))
    )


def _months(per_decl: pl.DataFrame, envoi: int | None = None) -> dt.date | None:
    """The earliest month of the sound declarations (of one envoi, if given)."""
    sound = per_decl.filter(pl.col("decl_issue").is_null())
    if envoi is not None:
        sound = sound.filter(pl.col("envoi") == envoi)
    month = sound["month"].min()
    assert month is None or isinstance(month, dt.date)
    return month


def _earliest(*months: dt.date | None) -> dt.date | None:
    return min((m for m in months if m is not None), default=None)


def _next_carry(
    carry: Carry,
    data: pl.DataFrame,
    envelope: pl.DataFrame,
    per_decl: pl.DataFrame,
    cat: Catalogue,
    open_end: int | None,
    n_lines: int,
    rejections: pl.DataFrame,
) -> Carry:
    """The state the next piece starts from."""
    starts = data.filter("new").group_by("bidx").agg(pl.col("inst_line").last())
    state = replace(
        carry,
        piece=carry.piece + 1,
        first_line=carry.first_line + n_lines,
        prev_block=int(data["bidx"][-1]) if data.height else carry.prev_block,
        starts={**carry.starts, **dict(zip(*starts.get_columns(), strict=True))},
        envoi_line=None,
        envoi_decls=0,
        envoi_added=0,
        envoi_total=False,
        envoi_month=None,
        file_month=_earliest(carry.file_month, _months(per_decl)),
        approx_done=carry.approx_done
        or bool((rejections["code"] == issues.NORME_APPROCHEE.code).any()),
    )
    if open_end is None:
        return state
    mine = data.filter(pl.col("envoi") == open_end)
    inherited = open_end == 0
    first = carry.envoi_line if inherited else mine["line_no"].min()
    assert isinstance(first, int)
    total = cat.block_index(TOTAL)
    return replace(
        state,
        envoi_line=first,
        envoi_decls=per_decl.filter(pl.col("envoi") == open_end).height
        + (carry.envoi_decls if inherited else 0),
        envoi_added=envelope.filter(pl.col("line_no") >= first).height
        + (carry.envoi_added if inherited else 0),
        envoi_total=(inherited and carry.envoi_total) or bool((mine["bidx"] == total).any()),
        envoi_month=_earliest(
            carry.envoi_month if inherited else None, _months(per_decl, open_end)
        ),
    )


def _per_file(frame: pl.DataFrame, n_files: int) -> np.ndarray:
    """Rows of ``frame`` per file index (a count for every file, zero included)."""
    return np.bincount(frame["file_idx"].to_numpy(), minlength=n_files)


def _non_dsn_files(
    group: list[int], lines: pl.DataFrame, data: pl.DataFrame, other: pl.DataFrame
) -> pl.DataFrame:
    """Files of ``group`` where no line looks like a rubrique (or empty): one error each."""
    n_files = max(group, default=0) + 1
    readable = (_per_file(data, n_files) > 0) | (
        _per_file(other.filter(pl.col("rubrique").is_not_null()), n_files) > 0
    )
    unreadable = [i for i in group if not readable[i]]
    return pl.DataFrame(
        {"file_idx": unreadable, "n_lines": _per_file(lines, n_files)[unreadable]},
        schema={"file_idx": pl.Int32, "n_lines": pl.Int64},
    )


def _structure(data: pl.DataFrame, cat: Catalogue, carry: Carry) -> pl.DataFrame:
    """Block instances, their transitions, declaration and envoi of every data line (a piece
    of a file starts from ``carry``, a file from nothing)."""
    file_start = (pl.col("file_idx") != pl.col("file_idx").shift(1)).fill_null(True)
    prev_block = pl.col("bidx").shift(1)
    new = file_start | (pl.col("bidx") != prev_block) | (pl.col("num") <= pl.col("num").shift(1))
    data = data.with_columns(file_start=file_start, new=new.fill_null(True))
    prev = (
        pl.when(pl.col("file_start")).then(pl.lit(carry.prev_block, pl.Int16)).otherwise(prev_block)
    )
    envoi, decl, total = (cat.block_index(b) for b in (ENVOI, DECLARATION, TOTAL))
    start = pl.col("new")
    data = data.with_columns(
        inst=start.cum_sum().cast(pl.Int64),
        inst_line=pl.when(start).then(pl.col("line_no")).forward_fill(),
        verdict=pl.when(start).then(
            transition_key(prev, pl.col("bidx")).replace_strict(
                cat.transitions, default=0, return_dtype=pl.Int8
            )
        ),
    )
    # The declaration and envoi each line belongs to (reset at file start, envoi, total).
    decl_mark = (
        pl.when(start & (pl.col("bidx") == decl))
        .then(pl.col("inst"))
        .when((start & pl.col("bidx").is_in([envoi, total])) | pl.col("file_start"))
        .then(-1)
    )
    envoi_mark = (
        pl.when(start & (pl.col("bidx") == envoi))
        .then(pl.col("inst"))
        .when(pl.col("file_start"))
        .then(-1 if carry.envoi_line is None else 0)  # instance ids start at 1
    )
    data = data.with_columns(decl=decl_mark.forward_fill(), envoi=envoi_mark.forward_fill())
    outside = [cat.block_index(b) for b in (ENVOI, TOTAL, "S10.G00.01", "S10.G00.02")]
    return data.with_columns(
        decl=pl.when(pl.col("decl") >= 0).then(pl.col("decl")),
        envoi=pl.when(pl.col("envoi") >= 0).then(pl.col("envoi")),
    ).with_columns(
        scope_ok=pl.when(pl.col("bidx").is_in(outside))
        .then(pl.col("envoi").is_not_null())
        .otherwise(pl.col("decl").is_not_null())
    )


def _reject_declarations(
    data: pl.DataFrame, cat: Catalogue, carry: Carry, goes_on: bool, open_end: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per declaration: its first structural problem (null when sound) and its declared month.

    In a piece of a file, the envoi the piece ends in (``open_end``) ``goes_on`` in the next
    piece: its last declaration here is not its last one."""
    starts = data.filter(pl.col("new") & pl.col("decl").is_not_null())
    structural = (
        pl.when(pl.col("verdict") == VERDICTS[ORPHAN])
        .then(pl.lit(issues.BLOC_ORPHELIN.code))
        .when(pl.col("verdict") == VERDICTS[OUT_OF_ORDER])
        .then(pl.lit(issues.BLOC_HORS_ORDRE.code))
    )
    entreprise, etablissement = cat.block_index(ENTREPRISE), cat.block_index(ETABLISSEMENT)
    # the first repeated instance of an Entreprise or Etablissement block, if any: the norm has
    # one of each per declaration, and every row of it would be attributed to several
    head = pl.col("bidx").is_in([entreprise, etablissement])
    repeated = head & ~pl.col("bidx").is_first_distinct()
    per_decl = (
        starts.sort("line_no")
        .group_by("decl")
        .agg(
            first_issue=structural.drop_nulls().first(),
            issue_rid=pl.col("rid").filter(structural.is_not_null()).first(),
            has_06=(pl.col("bidx") == entreprise).any(),
            has_11=(pl.col("bidx") == etablissement).any(),
            repeat_line=pl.col("line_no").filter(repeated).first(),
            repeat_rid=pl.col("rid").filter(repeated).first(),
            envoi=pl.col("envoi").first(),
            file_idx=pl.col("file_idx").first(),
            line_no=pl.col("line_no").min(),
        )
    )
    # Signalements (FCTU...) have no declared month: the file's constitution date stands in.
    month_rids = cat.rids_of(*MONTH_RUBRIQUES)
    months = (
        data.filter(pl.col("rid").is_in(month_rids) & pl.col("decl").is_not_null())
        .sort("decl", "rid")
        .group_by("decl")
        .agg(
            month=pl.col("value")
            .first()
            .str.strptime(pl.Date, "%d%m%Y", strict=False)
            .dt.month_start()
        )
    )
    per_decl = per_decl.join(months, on="decl", how="left")
    # An envoi without its total (S90) was cut: its last declaration is incomplete.
    total = cat.block_index(TOTAL)
    with_total = data.filter(pl.col("bidx") == total).select("envoi").unique()
    if carry.envoi_total:
        with_total = pl.concat([with_total, pl.DataFrame({"envoi": [0]}, schema=with_total.schema)])
    last = per_decl.group_by("envoi").agg(last=pl.col("decl").max())
    if goes_on:
        last = last.filter(pl.col("envoi").ne_missing(pl.lit(open_end, pl.Int64)))
    truncated = last.join(with_total, on="envoi", how="anti")["last"].implode()
    per_decl = per_decl.with_columns(
        decl_issue=pl.when(pl.col("first_issue").is_not_null())
        .then(pl.col("first_issue"))
        .when(~pl.col("has_06") | ~pl.col("has_11"))
        .then(pl.lit(issues.DECLARATION_INCOMPLETE.code))
        .when(pl.col("repeat_line").is_not_null())
        .then(pl.lit(issues.ETABLISSEMENT_MULTIPLE.code))
        .when(pl.col("decl").is_in(truncated))
        .then(pl.lit(issues.FICHIER_TRONQUE.code))
        .when(pl.col("month").is_null())
        .then(pl.lit(issues.MOIS_DECLARE_INVALIDE.code))
    )
    multiple = pl.col("decl_issue") == issues.ETABLISSEMENT_MULTIPLE.code
    per_decl = per_decl.with_columns(
        line_no=pl.when(multiple).then(pl.col("repeat_line")).otherwise(pl.col("line_no")),
        issue_rid=pl.when(multiple).then(pl.col("repeat_rid")).otherwise(pl.col("issue_rid")),
    )
    bad = per_decl.filter(pl.col("decl_issue").is_not_null())["decl"].implode()
    data = data.with_columns(decl_ok=~pl.col("decl").is_in(bad).fill_null(False))
    return data, per_decl


def _rejections(
    other: pl.DataFrame,
    data: pl.DataFrame,
    kept: pl.DataFrame,
    per_decl: pl.DataFrame,
    non_dsn: pl.DataFrame,
    version: str,
    declared: dict[int, str],
    files: pl.DataFrame,
    cat: Catalogue,
    carry: Carry,
) -> pl.DataFrame:
    """One row per problem: line-level, declaration-level and file-level, rejects and warnings."""
    rubrique_of = pl.lit(pl.Series(cat.rubriques)).gather(pl.col("rid"))

    def masked(value: pl.Expr) -> pl.Expr:
        # Never copy a personal value into the report: the rubrique says enough.
        personal = pl.col("rubrique").is_in(list(PERSONAL)).fill_null(False)
        return pl.when(personal).then(pl.lit("***")).otherwise(value.str.slice(0, 120))

    def rows(frame: pl.DataFrame, code: pl.Expr, valeur: pl.Expr, lignes: pl.Expr) -> pl.DataFrame:
        return frame.select(
            "file_idx",
            ligne=pl.col("line_no").cast(pl.Int32),
            rubrique=pl.col("rubrique"),
            code=code,
            valeur=valeur,
            lignes=lignes.cast(pl.Int64),
        )

    one, none = pl.lit(1), pl.lit(0)
    no_value = pl.lit(None, pl.String)
    bad = other.filter(pl.col("kind") == "bad")
    warned = pl.concat(
        [
            data.filter(pl.col("issue").is_not_null()).with_columns(rubrique=rubrique_of),
            other.filter((pl.col("kind") == "envelope") & pl.col("issue").is_not_null()),
        ],
        how="diagonal_relaxed",
    )
    with_rubrique = pl.col("rid").is_not_null()
    decl_lines = data.filter(~pl.col("decl_ok")).group_by("decl").agg(lignes=pl.len())
    rejected_decls = (
        per_decl.filter(pl.col("decl_issue").is_not_null())
        .join(decl_lines, on="decl", how="left")
        .with_columns(rid=pl.col("issue_rid"))
        .with_columns(rubrique=pl.when(with_rubrique).then(rubrique_of))
    )
    exact = {i for i, v in declared.items() if v == version}
    approx_files = (
        data.filter(
            pl.col("rid").is_in(cat.rids_of("S10.G00.00.006"))
            & ~pl.col("file_idx").is_in(list(exact))
            & pl.lit(not carry.approx_done)
        )
        .unique("file_idx", keep="first")
        .with_columns(rubrique=rubrique_of)
    )
    values = kept.filter(pl.col("value_issue").is_not_null()).with_columns(rubrique=rubrique_of)
    parts = [
        rows(
            _inconsistent_totals(data, other, cat, carry).with_columns(rubrique=rubrique_of),
            pl.lit(issues.TOTAL_INCOHERENT.code),
            pl.col("value"),
            none,
        ),
        rows(bad, pl.col("issue"), masked(pl.coalesce("value", "raw")), one),
        rows(warned, pl.col("issue"), masked(pl.col("value")), none),
        rows(rejected_decls, pl.col("decl_issue"), no_value, pl.col("lignes")),
        rows(
            data.filter(pl.col("decl_ok") & ~pl.col("scope_ok")).with_columns(rubrique=rubrique_of),
            pl.lit(issues.HORS_DECLARATION.code),
            masked(pl.col("value")),
            one,
        ),
        rows(
            data.filter(pl.col("verdict") == VERDICTS[REPEATED]).with_columns(rubrique=rubrique_of),
            pl.lit(issues.BLOC_REPETE.code),
            no_value,
            none,
        ),
        rows(
            values,
            pl.col("value_issue"),
            masked(pl.col("value")),
            pl.when(pl.col("value_issue") == issues.CODE_NON_VERIFIE.code).then(0).otherwise(1),
        ),
        rows(approx_files, pl.lit(issues.NORME_APPROCHEE.code), pl.col("value"), none),
        rows(
            non_dsn.with_columns(line_no=pl.lit(None, pl.Int32), rubrique=no_value),
            pl.lit(issues.FICHIER_NON_DSN.code),
            no_value,
            pl.col("n_lines"),
        ),
    ]
    out = pl.concat(parts, how="vertical_relaxed").join(files, on="file_idx", how="left")
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
    # Stable: problems of one line keep the order of the checks (rule 7, deterministic output).
    return (
        out.select(list(REJECTION_SCHEMA))
        .cast(REJECTION_SCHEMA)
        .sort("fichier", "ligne", maintain_order=True)
    )


def _inconsistent_totals(
    data: pl.DataFrame, other: pl.DataFrame, cat: Catalogue, carry: Carry
) -> pl.DataFrame:
    """The S90 lines whose counts (rubriques, declarations) differ from their envoi's content.

    The declared total counts every line the sender wrote from S10 to S90, unreadable ones
    included; lot and platform lines added on the way (the envelope) are not the sender's. In a
    piece of a file, the envoi it starts in (id 0) adds what ``carry`` counted before it.
    """
    lines_rid, decls_rid = cat.rids_of("S90.G00.90.001", "S90.G00.90.002")
    envoi, decl = pl.col("envoi"), pl.col("decl")
    # Lines are in file order, along which envoi and declaration ids only grow: the rows where
    # they change are enough to find each envoi's first and last lines and count its declarations.
    changes = (
        data.filter(envoi.is_not_null())
        .with_columns(
            first_row=(envoi != envoi.shift(1)).fill_null(True),
            last_row=(envoi != envoi.shift(-1)).fill_null(True),
            new_decl=(decl != decl.shift(1)).fill_null(True) & decl.is_not_null(),
        )
        .filter(pl.col("first_row") | pl.col("last_row") | pl.col("new_decl"))
    )
    spans = changes.group_by("envoi").agg(
        pl.col("file_idx").first(),
        first=pl.col("line_no").min(),
        last=pl.col("line_no").max(),
        n_decls=pl.col("new_decl").sum(),
    )
    added = (
        other.filter(pl.col("kind") == "envelope")
        .join(spans, on="file_idx")
        .filter(pl.col("line_no").is_between("first", "last"))
        .group_by("envoi")
        .agg(n_added=pl.len())
    )
    # the envoi the piece starts in: its first line, declarations and lot lines before the piece
    inherited = pl.lit(carry.envoi_line is not None) & (pl.col("envoi") == 0)
    counts = spans.join(added, on="envoi", how="left").with_columns(
        first=pl.when(inherited).then(pl.lit(carry.envoi_line)).otherwise("first"),
        n_decls=pl.col("n_decls") + pl.when(inherited).then(carry.envoi_decls).otherwise(0),
        n_added=pl.col("n_added").fill_null(0)
        + pl.when(inherited).then(carry.envoi_added).otherwise(0),
    )
    counts = counts.with_columns(n_lines=pl.col("last") - pl.col("first") + 1 - pl.col("n_added"))
    totals = data.filter(pl.col("rid").is_in([lines_rid, decls_rid])).join(
        counts.select("envoi", "n_lines", "n_decls"), on="envoi"
    )
    expected = pl.when(pl.col("rid") == lines_rid).then("n_lines").otherwise("n_decls")
    return totals.filter(pl.col("value").cast(pl.Int64, strict=False) != expected)


def _merge(parts: list[ParsedBatch]) -> ParsedBatch:
    if len(parts) == 1:
        return parts[0]
    tables: dict[str, list[pa.Table]] = {}
    for part in parts:
        for name, table in part.tables.items():
            tables.setdefault(name, []).append(table)
    merged = ParsedBatch(
        tables={n: pa.concat_tables(t, promote_options="permissive") for n, t in tables.items()},
        rejections=pl.concat([p.rejections for p in parts]),
    )
    for part in parts:
        merged.add(part)
    return merged
