"""Large files parsed piece by piece, with the result of parsing them whole.

The parser is vectorised over whole files, and its memory grows with what it parses at once
(10 to 25 times the text). A file larger than a piece is read as a stream and cut right before
an envoi's or a declaration's first line (``sources.pieces``); each piece is parsed from the
state the pieces before it left (``parser.Carry``: line numbers, the block before, the envoi
the piece starts in with its counts for the S90 check, the earliest months). Two things of a
piece depend on the pieces after it, and wait for them here: the envoi-level rows of an envoi
that goes on in the next piece (their ``mois_declaration`` is the earliest month of the whole
envoi) and the lot and platform lines (``enveloppe``: the earliest month of the whole file).
A file without any line like a rubrique has nowhere to be cut: its scan gives its result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from datadsn.ingest.parser import Carry, ParsedBatch, file_info, non_dsn_batch, parse_piece
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.sources import FileFacts, SourceRef, pieces, scan
from datadsn.ingest.tables import ENVELOPE_TABLE


def parse_in_pieces(ref: SourceRef, secret: Secret, target: int) -> Iterator[ParsedBatch]:
    """The batches of one file parsed in pieces of about ``target`` bytes. The whole file is
    read once first (encoding, norm version, and whether it decompresses at all: a
    ``FileProblem`` is raised before any piece is parsed)."""
    facts = scan(ref)
    if not facts.rubriques:
        yield non_dsn_batch(ref.name, facts)
        return
    with ref.open() as stream:
        yield from _parse_pieces(pieces(stream, target), ref.name, facts, secret)


def _parse_pieces(
    cuts: Iterator[tuple[bytes, str | None]], name: str, facts: FileFacts, secret: Secret
) -> Iterator[ParsedBatch]:
    """Parse the pieces one after the other; the last batch counts the file and carries its
    ``file_info`` row."""
    carry = Carry()
    held: dict[str, list[pa.Table]] = {}
    envelope: list[pa.Table] = []
    octets = 0
    for data, cut in cuts:
        batch = parse_piece(data, name, facts, secret, carry, cut)
        assert batch.carry is not None
        carry, octets = batch.carry, octets + len(data)
        if ENVELOPE_TABLE in batch.tables:
            envelope.append(batch.tables.pop(ENVELOPE_TABLE))
        if batch.closes_envoi:
            for table, waiting in held.items():
                rows = [_with_month(t, batch.closed_month) for t in waiting]
                batch.tables[table] = _concat([*rows, *_some(batch.tables.get(table))])
            held = {}
        for table, rows in batch.held.items():
            held.setdefault(table, []).append(rows)
        batch.held = {}
        if cut is None:
            assert not held, "the last piece ends every envoi"
            if envelope:
                envelope = [_with_month(t, carry.file_month) for t in envelope]
                batch.tables[ENVELOPE_TABLE] = _concat(envelope)
            batch.files = 1
            batch.encodings = {facts.encoding: 1}
            batch.file_info = file_info([name], [facts.encoding], [octets], [carry.first_line])
        yield batch


def _some(table: pa.Table | None) -> list[pa.Table]:
    return [] if table is None else [table]


def _concat(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")


def _with_month(table: pa.Table, month: dt.date | None) -> pa.Table:
    value = None if month is None else month.strftime("%Y-%m")
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(mois_declaration=pl.lit(value, pl.String))
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())
