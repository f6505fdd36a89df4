"""The DSNP3 CSV reader: the 15 extracts of a month, as the reference pipeline receives them, into
the same raw tables as the NEODES parser.

An *extraction* is the set of ``champollion_<table>_YYYY-MM-DD.csv`` files of one folder and one
date (the reference's monthly archive): cp1252 (UTF-8 accepted), ``;`` separator, ``|`` text
qualifier that may be absent, an optional header line, empty field = NULL. Each row is a block
occurrence with a technical id and the id of its parent (``dsnp3_mapping.py``). Rows become
NEODES rows of the raw tables:

- ``fichier`` is the extraction, ``<folder>/champollion_*_<date>.csv``, shared by all the rows
  of its declarations (the consolidation joins the blocks of a declaration on ``fichier``); the
  row sits in the extract of its table, at line ``ligne`` (the header is line 1);
- ``<ancestor>_ligne`` is the ``ligne`` of the ancestor row, found through the technical ids
  (an establishment row is both the entreprise and the etablissement block, with one line);
- ``mois_declaration`` is the declared month (``DateDeclaration`` of the declaration row), so a
  late declaration of an earlier month, sent in a later extraction, is filed under its month;
- values are converted to the NEODES text forms then typed and pseudonymised by the very code
  of the NEODES tables (``tables._columns``): same types, same pseudonyms.

A row with the wrong number of columns, an unknown parent or a duplicate id is rejected (with
its descendants, whose parent is then unknown); a value that does not convert is dropped with
a rejection (the row is kept). Rows read = rows stored + rows rejected. Each declaration carries
an ``empreinte`` (SHA-256 of its stored rows, extract by extract), so that ingesting it twice
stores it once (``duplicates.py``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
import polars as pl

from datadsn.ingest import issues
from datadsn.ingest.dsnp3_mapping import DECLARATION, EXTRACTS, NEODES_DATES, ORDER
from datadsn.ingest.parser import REJECTION_SCHEMA, ParsedBatch, file_info, file_rejections
from datadsn.ingest.pseudonymize import PERSONAL, Secret
from datadsn.ingest.sources import FileProblem, SourceRef
from datadsn.ingest.tables import FINGERPRINT, _arrow, _columns
from datadsn.norm import Norm, Rubrique, load_norm
from datadsn.simulate.dsnp3_columns import COLUMNS

NORM_VERSION = "P26V01"  # the catalogue the DSNP3 columns are mapped to
VERSION_LABEL = "DSNP3"
NAME = re.compile(r"^champollion_([a-z]+)_(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?$", re.IGNORECASE)
MAX_BYTES = 16 * 1024**3
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T][0-9:.]*)?$")
DDMMYYYY = re.compile(r"^\d{8}$")


def match(name: str) -> tuple[str, str] | None:
    """(DSNP3 table, extraction date) of an extract's file name, None if it is not one."""
    m = NAME.match(PurePosixPath(name.replace("!", "/")).name)
    if m is None or m.group(1).lower() not in EXTRACTS:
        return None
    return m.group(1).lower(), m.group(2)


@dataclass
class Extraction:
    """The extracts of one folder and one date."""

    folder: str
    date: str
    files: dict[str, SourceRef]

    @property
    def fichier(self) -> str:
        return f"{self.folder}/champollion_*_{self.date}.csv"


def extractions(refs: list[SourceRef]) -> tuple[list[Extraction], list[SourceRef]]:
    """The extractions of ``refs`` (sorted), and the files that are not extracts."""
    found: dict[tuple[str, str], dict[str, SourceRef]] = {}
    others = []
    for ref in refs:
        m = match(ref.name)
        if m is None or ref.problem is not None:
            others.append(ref)
            continue
        folder = str(PurePosixPath(ref.name.replace("!", "/")).parent)
        found.setdefault((folder, m[1]), {})[m[0]] = ref
    return [Extraction(f, d, files) for (f, d), files in sorted(found.items())], others


# --- reading one extract -----------------------------------------------------------------------


@dataclass
class _Read:
    frame: pl.DataFrame  # ligne, texte, then one String column per expected column
    rejections: list[dict]
    lines_read: int
    lines_total: int
    encoding: str


CHUNK_BYTES = 8 * 1024**2  # an extract is decoded and parsed this much at a time


def _chunks(data: bytes, size: int) -> Iterator[memoryview]:
    """``data`` (without a UTF-8 BOM) in pieces of about ``size`` bytes ending after a newline
    (a newline byte is never inside a UTF-8 or CP1252 character), as views: no copy."""
    view = memoryview(data)
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while pos < len(data):
        cut = data.find(b"\n", pos + size)
        end = len(data) if cut < 0 else cut + 1
        yield view[pos:end]
        pos = end


def _encoding(data: bytes) -> str:
    """The codec of the whole extract, checked piece by piece (no decoded copy of it)."""
    if data.isascii():  # the extracts' encoding, as far as anyone can tell
        return "ascii"
    try:
        for piece in _chunks(data, CHUNK_BYTES):
            codecs.decode(piece, "utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _rejection(
    name: str,
    line: int | None,
    column: str | None,
    kind: issues.IssueType,
    detail: str = "",
    value: str | None = None,
    lines: int = 0,
) -> dict:
    return {
        "fichier": name,
        "ligne": line,
        "rubrique": column,
        "code": kind.code,
        "niveau": kind.level.value,
        "rejet": kind.rejects,
        "message": f"{kind.message}{' : ' + detail if detail else ''}",
        "valeur": value,
        "lignes": lines,
    }


def _split(piece: memoryview, codec: str) -> list[str]:
    text = codecs.decode(piece, codec, errors="replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":  # a piece ends after a newline
        lines.pop()
    return lines


def read_extract(name: str, data: bytes, table: str, chunk: int = CHUNK_BYTES) -> _Read:
    """The rows of one extract, with their line numbers and the rows rejected. It is decoded
    and parsed ``chunk`` bytes at a time: the Python strings of a large extract never all
    exist at once, only the parsed columns are kept."""
    codec = _encoding(data)
    encoding = "UTF-8" if codec == "utf-8" else "CP1252"
    expected = COLUMNS[table]
    frames: list[pl.DataFrame] = []
    rejections: list[dict] = []
    start = done = 0  # header lines; lines parsed (header included)
    pending: list[str] = []  # lines whose qualified texts do not close yet
    pieces = _chunks(data, chunk)
    for piece in pieces:
        lines = _split(piece, codec)
        if done == 0 and not pending and lines:
            first = next(csv.reader(lines[:1], delimiter=";", quotechar="|"), [])
            if [c.strip().lower() for c in first] == [c.lower() for c in expected]:
                start = done = 1
                lines = lines[1:]
            elif first and first[0].strip().lower() == expected[0].lower():
                # a header, but not this extract's: no column can be trusted, every row rejected
                total = len(lines) + sum(len(_split(p, codec)) for p in pieces)
                detail = f"{len(first)} colonnes ({';'.join(first[:3])}...)"
                kind = issues.EN_TETE_INVALIDE
                rejection = _rejection(name, None, None, kind, detail, lines=total - 1)
                return _Read(_empty(expected), [rejection], total - 1, total, encoding)
        pending += lines
        fast = _rows_at_once(name, pending, done, expected)
        if fast is not None:  # else a qualified text may go on in the next piece
            frames.append(_trimmed(fast[0], expected))
            rejections += fast[1]
            done += len(pending)
            pending = []
    if pending:
        frame, found = _rows_one_by_one(name, pending, done, expected)
        frames.append(_trimmed(frame, expected))
        rejections += found
        done += len(pending)
    frame = pl.concat(frames) if frames else _empty(expected)
    return _Read(frame, rejections, done - start, done, encoding)


def _trimmed(frame: pl.DataFrame, expected: list[str]) -> pl.DataFrame:
    """The rows of one piece, values trimmed and empty as NULL (piece by piece: the columns
    of a whole extract are never copied at once)."""
    return frame.select(
        "ligne", "texte", *(pl.col(c).str.strip_chars().replace("", None) for c in expected)
    )


def _rows_at_once(
    name: str, body: list[str], start: int, expected: list[str]
) -> tuple[pl.DataFrame, list[dict]] | None:
    """The rows of ``body`` parsed by Polars' CSV reader, once the lines with the wrong number
    of fields are set apart (counted outside the ``|...|`` qualified parts); None when a
    qualifier is unbalanced (a text over two lines, a stray ``|``): the caller reads the
    lines one by one as Python's csv module does."""
    lines = pl.Series("texte", body, dtype=pl.String)
    bare = lines.str.replace_all(r"\|[^|]*\|", "")
    if bare.str.contains("|", literal=True).any():
        return None
    frame = pl.DataFrame(
        {
            "ligne": pl.int_range(start + 1, start + 1 + len(body), dtype=pl.Int32, eager=True),
            "texte": lines,
            "champs": bare.str.count_matches(";", literal=True) + 1,
            "vide": lines.str.strip_chars() == "",
        }
    )
    rejections = [
        _rejection(name, n, None, issues.LIGNE_VIDE, lines=1) for n in frame.filter("vide")["ligne"]
    ]
    wrong = frame.filter(~pl.col("vide") & (pl.col("champs") != len(expected)))
    rejections += [
        _rejection(
            name, n, None, issues.COLONNES_INVALIDES, f"{k} au lieu de {len(expected)}", lines=1
        )
        for n, k in wrong.select("ligne", "champs").iter_rows()
    ]
    good = frame.filter(~pl.col("vide") & (pl.col("champs") == len(expected)))
    if not good.height:
        return _empty(expected), sorted(rejections, key=lambda r: r["ligne"])
    values = pl.read_csv(
        io.BytesIO("\n".join(good["texte"]).encode("utf-8")),
        has_header=False,
        separator=";",
        quote_char="|",
        schema=dict.fromkeys(expected, pl.String),
    )
    if values.height != good.height:  # what the count did not foresee: the careful way
        return None
    return (
        pl.concat([good.select("ligne", "texte"), values], how="horizontal"),
        sorted(rejections, key=lambda r: r["ligne"]),
    )


def _rows_one_by_one(
    name: str, body: list[str], start: int, expected: list[str]
) -> tuple[pl.DataFrame, list[dict]]:
    """The rows of ``body`` read by Python's csv module (a qualified text may span lines)."""
    rejections: list[dict] = []
    numbers: list[int] = []
    texts: list[str] = []
    values: list[list[str]] = []
    reader = csv.reader(body, delimiter=";", quotechar="|")
    for row in reader:
        number = start + reader.line_num  # a field qualified over two lines: its last one
        if len(row) < 2 and not "".join(row).strip():
            rejections.append(_rejection(name, number, None, issues.LIGNE_VIDE, lines=1))
            continue
        if len(row) != len(expected):
            detail = f"{len(row)} au lieu de {len(expected)}"
            rejections.append(
                _rejection(name, number, None, issues.COLONNES_INVALIDES, detail, lines=1)
            )
            continue
        numbers.append(number)
        texts.append(body[number - start - 1])
        values.append(row)
    frame = pl.DataFrame(values, schema=dict.fromkeys(expected, pl.String), orient="row")
    return (
        frame.with_columns(
            pl.Series("ligne", numbers, dtype=pl.Int32), pl.Series("texte", texts, dtype=pl.String)
        ),
        rejections,
    )


def _empty(expected: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        schema={"ligne": pl.Int32, "texte": pl.String, **dict.fromkeys(expected, pl.String)}
    )


# --- converting values to NEODES text --------------------------------------------------------


def _iso_to_neodes(v: pl.Expr) -> pl.Expr:
    """An ISO date (time part ignored) as DDMMYYYY text; other text unchanged."""
    parts = v.str.extract_groups(ISO.pattern)
    iso = pl.concat_str([parts.struct.field("3"), parts.struct.field("2"), parts.struct.field("1")])
    return iso.fill_null(v.str.replace_all(r"\s", ""))


def _neodes_date(values: pl.Series) -> pl.Series:
    """ISO (or DDMMYYYY) dates as NEODES DDMMYYYY text; null where impossible."""
    text = _iso_to_neodes(pl.col("v"))
    ok = text.str.strptime(pl.Date, "%d%m%Y", strict=False).is_not_null()
    out = values.to_frame("v").select(pl.when(ok).then(text)).to_series()
    return out.alias(values.name)


def _neodes_birth_date(values: pl.Series) -> pl.Series:
    """A birth date as declared, DDMMYYYY (an ISO one is turned into it); 8 digits required."""
    text = _iso_to_neodes(pl.col("v"))
    ok = text.str.contains(DDMMYYYY.pattern)
    out = values.to_frame("v").select(pl.when(ok).then(text)).to_series()
    return out.alias(values.name)


def _valid(values: pl.Series, ok: pl.Series) -> pl.Series:
    return values.to_frame("v").select(pl.when(ok).then(pl.col("v"))).to_series().alias(values.name)


def _convert(values: pl.Series, r: Rubrique) -> tuple[pl.Series, issues.IssueType]:
    if r.id in NEODES_DATES:
        return _neodes_birth_date(values), issues.DATE_INVALIDE
    if r.sql == "DATE":
        return _neodes_date(values), issues.DATE_INVALIDE
    if r.sql == "DECIMAL(18,2)":
        text = values.str.replace(",", ".", literal=True)
        ok = text.cast(pl.Decimal(18, 2), strict=False).is_not_null()
        return _valid(text, ok), issues.FORMAT_INVALIDE
    if r.sql == "BIGINT":
        ok = values.cast(pl.Int64, strict=False).is_not_null()
        return _valid(values, ok), issues.FORMAT_INVALIDE
    return values, issues.FORMAT_INVALIDE


# --- one extraction --------------------------------------------------------------------------


def parse_extraction(ext: Extraction, secret: Secret) -> Iterator[ParsedBatch]:
    """Read the extracts of ``ext`` into raw tables, rejections and counts: a batch with the
    raw tables of each extract in turn (to be written before the next is built, so that the
    raw tables of the whole extraction are never held), then one with the counts, the
    rejections and the file rows."""
    batch = ParsedBatch(files=len(ext.files), versions={VERSION_LABEL: len(ext.files)})
    rejections: list[dict] = []
    prints = _Fingerprints()
    stored = _link(ext, _read_files(ext, batch, rejections), rejections, prints)
    batch.lines_rejected = sum(r["lignes"] for r in rejections)
    batch.lines_stored = sum(f.height for f in stored.values())
    batch.declarations_rejected = batch.declarations - (
        stored[DECLARATION].height if DECLARATION in stored else 0
    )
    for table in list(stored):
        frame = stored.pop(table)  # each extract is let go once its raw tables are built
        name = ext.files[table].name
        built = ParsedBatch()
        for block in EXTRACTS[table].blocks:
            out = _block_table(ext, table, block, frame, secret, rejections, name)
            if block == "S20.G00.05":
                out = out.with_columns(
                    frame.select("decl_ligne")
                    .join(prints.frame(), on="decl_ligne", how="left", maintain_order="left")
                    .select(*FINGERPRINT)
                )
            if out.height:
                built.tables[_norm().blocks[block].table] = _arrow(out)
        if built.tables:
            yield built
    if rejections:
        rows = pl.DataFrame(rejections, schema=REJECTION_SCHEMA)
        batch.rejections = pl.concat([rows, batch.rejections])
    yield batch


def _norm() -> Norm:
    return load_norm(NORM_VERSION)


def _read_files(
    ext: Extraction, batch: ParsedBatch, rejections: list[dict]
) -> Iterator[tuple[str, _Read]]:
    """Each extract of ``ext`` read in turn (parents first); counts, file rows and file
    rejections go to ``batch``."""
    info: list[tuple[str, str | None, int, int]] = []
    problems: list[tuple[str, issues.IssueType, str]] = []
    for table in ORDER:
        ref = ext.files.get(table)
        if ref is None:
            continue
        try:
            data = ref.read(limit=MAX_BYTES)
            if data is None:
                raise FileProblem(issues.FICHIER_ILLISIBLE.code, "fichier trop volumineux")
        except FileProblem as problem:
            problems.append((ref.name, issues.ALL[problem.code], problem.detail))
            info.append((ref.name, None, ref.size, 0))
            continue
        got = read_extract(ref.name, data, table)
        rejections.extend(got.rejections)
        info.append((ref.name, got.encoding, len(data), got.lines_total))
        batch.encodings[got.encoding] = batch.encodings.get(got.encoding, 0) + 1
        batch.lines_read += got.lines_read
        if table == DECLARATION:
            batch.declarations = got.frame.height
        del data  # not held while the extract is linked
        yield table, got
    batch.file_info = file_info(*(list(column) for column in zip(*info, strict=True)))
    if problems:
        batch.rejections = file_rejections(
            [p[0] for p in problems],
            [p[1] for p in problems],
            [f"{p[1].message} : {p[2]}" if p[2] else p[1].message for p in problems],
            [0] * len(problems),
        )


def _link(
    ext: Extraction,
    read: Iterator[tuple[str, _Read]],
    rejections: list[dict],
    prints: _Fingerprints,
) -> dict[str, pl.DataFrame]:
    """The rows kept, extract by extract (parents first), each with its declared month
    ``mois_declaration``, the line of its declaration ``decl_ligne`` and a ``<table>_ligne``
    column for its own blocks and every ancestor block (found through the technical ids).
    Each extract is linked as soon as it is read, and its line texts go into ``prints`` then
    are dropped, so that no two copies of an extract, nor the texts of all, are held at once."""
    norm = _norm()
    keys: dict[str, pl.DataFrame] = {}
    stored: dict[str, pl.DataFrame] = {}
    for table, got in read:
        spec = EXTRACTS[table]
        name = ext.files[table].name
        frame = got.frame
        bad_id = frame[spec.own_id].is_null() | ~frame[spec.own_id].is_first_distinct()
        for line, value in frame.filter(bad_id).select("ligne", spec.own_id).iter_rows():
            detail = "identifiant vide" if value is None else ""
            kind = issues.IDENTIFIANT_EN_DOUBLE
            rejections.append(_rejection(name, line, spec.own_id, kind, detail, value, 1))
        frame = frame.filter(~bad_id)
        if spec.parent is None:  # the declaration: its month
            month = _neodes_date(frame["DateDeclaration"])
            ok = month.is_not_null()
            for line, value in frame.filter(~ok).select("ligne", "DateDeclaration").iter_rows():
                kind = issues.MOIS_DECLARE_INVALIDE
                rejections.append(_rejection(name, line, "DateDeclaration", kind, "", value, 1))
            frame = frame.filter(ok).with_columns(
                mois_declaration=month.filter(ok)
                .str.strptime(pl.Date, "%d%m%Y")
                .dt.strftime("%Y-%m"),
                decl_ligne=pl.col("ligne"),
            )
            rejections.extend(_window(name, frame, ext.date))
        else:
            parent = keys.get(spec.parent)
            if parent is None:  # no parent extract (missing or unreadable): all orphans
                parent = pl.DataFrame(schema={"pid": pl.String, "mois_declaration": pl.String})
            parent = parent.rename({EXTRACTS[spec.parent].own_id: "pid"}, strict=False)
            joined = frame.join(
                parent, left_on=spec.parent_id, right_on="pid", how="left", maintain_order="left"
            )
            orphan = joined["mois_declaration"].is_null()
            for line, value in joined.filter(orphan).select("ligne", spec.parent_id).iter_rows():
                kind = issues.PARENT_INCONNU
                rejections.append(_rejection(name, line, spec.parent_id, kind, "", value, 1))
            frame = joined.filter(~orphan)
        frame = frame.with_columns(
            pl.col("ligne").alias(f"{norm.blocks[b].table}_ligne") for b in spec.blocks
        )
        prints.add(frame)
        lines = [c for c in frame.columns if c.endswith("_ligne")]  # decl_ligne included
        keys[table] = frame.select(spec.own_id, "mois_declaration", *lines)
        # only what its raw tables need is kept (not the texts, ids and unmapped columns)
        stored[table] = frame.select("ligne", "mois_declaration", *lines, *spec.columns)
    return stored


class _Fingerprints:
    """Per declaration (``decl_ligne``): ``empreinte``, a SHA-256 of its stored rows' text,
    extract by extract (in ``ORDER``) in file order, and ``lignes_rangees``, the number of
    those rows. Fed one extract at a time, so that only one extract's texts are held."""

    def __init__(self) -> None:
        self._hashes: dict[int, hashlib._Hash] = {}
        self._rows: dict[int, int] = {}

    def add(self, frame: pl.DataFrame) -> None:
        """The kept rows of the next extract (``decl_ligne``, ``ligne``, ``texte``)."""
        groups = (
            frame.select("decl_ligne", "ligne", "texte")
            .sort("ligne")
            .group_by("decl_ligne", maintain_order=True)
            .agg(pl.col("texte").str.join("\n"), pl.len())
        )
        for decl, text, n in groups.iter_rows():
            found = self._hashes.get(decl)
            if found is None:
                self._hashes[decl] = found = hashlib.sha256()
            else:  # the texts of all extracts are joined by newlines
                found.update(b"\n")
            found.update(text.encode())
            self._rows[decl] = self._rows.get(decl, 0) + n

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "decl_ligne": list(self._hashes),
                "empreinte": [h.hexdigest()[:32] for h in self._hashes.values()],
                "lignes_rangees": list(self._rows.values()),
            },
            schema={"decl_ligne": pl.Int32, "empreinte": pl.String, "lignes_rangees": pl.Int64},
        )


def _block_table(
    ext: Extraction,
    table: str,
    block: str,
    frame: pl.DataFrame,
    secret: Secret,
    rejections: list[dict],
    name: str,
) -> pl.DataFrame:
    """The raw table of one NEODES block from the kept rows of an extract: lineage, ancestor
    lines, then every rubrique of the block, typed and pseudonymised by the NEODES code (the
    rubriques DSNP3 lacks are NULL). A value that does not convert is dropped and reported."""
    norm = _norm()
    carried = {r: c for c, r in EXTRACTS[table].columns.items() if r.startswith(block + ".")}
    columns: list[pl.Series | pl.Expr] = []
    for r in norm.block_rubriques(block):
        column = carried.get(r.id)
        found = None
        if column is not None and frame[column].null_count() < frame.height:
            raw = frame[column]
            value, kind = _convert(raw, r)
            shown = "***" if r.id in PERSONAL else None
            for line, v in (
                frame.filter(raw.is_not_null() & value.is_null())
                .select("ligne", column)
                .iter_rows()
            ):
                rejections.append(_rejection(name, line, column, kind, "", shown or v, 0))
            keep = value.is_not_null().to_numpy()
            found = (np.flatnonzero(keep), value.filter(keep))
        columns.extend(_columns(r, found, frame.height, secret))
    parents = [
        pl.col(f"{norm.blocks[a].table}_ligne").cast(pl.Int32)
        for a in reversed(norm.ancestors(block))
    ]
    return frame.select(
        pl.lit(ext.fichier).alias("fichier"),
        pl.col("ligne").cast(pl.Int32),
        "mois_declaration",
        *parents,
    ).with_columns(columns)


def _window(name: str, decls: pl.DataFrame, date: str) -> list[dict]:
    """A warning for each declaration loaded outside the window of the extraction of ``date``:
    from the 9th of the month after to the 9th of the month after that."""
    month = dt.date.fromisoformat(date).replace(day=1)
    start = _add_months(month, 1).replace(day=9)
    end = _add_months(month, 2).replace(day=9)
    loaded = (
        decls["DateChargement"].str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    )
    outside = loaded.is_not_null() & ((loaded < start) | (loaded >= end))
    return [
        _rejection(name, line, "DateChargement", issues.HORS_FENETRE, "", value, 0)
        for line, value in decls.filter(outside).select("ligne", "DateChargement").iter_rows()
    ]


def _add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return day.replace(year=index // 12, month=index % 12 + 1)


def unknown_files(refs: list[SourceRef]) -> ParsedBatch:
    """A file-level rejection for each file given as DSNP3 that is not an extract."""
    batch = ParsedBatch(files=len(refs))
    if not refs:
        return batch
    kind = issues.EXTRACTION_INCONNUE
    batch.rejections = file_rejections(
        [r.name for r in refs], [kind] * len(refs), [kind.message] * len(refs), [0] * len(refs)
    )
    batch.file_info = file_info(
        [r.name for r in refs], [None] * len(refs), [r.size for r in refs], [0] * len(refs)
    )
    return batch
