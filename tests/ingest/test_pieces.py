"""A large file parsed in pieces gives exactly what parsing it whole gives."""

from __future__ import annotations

from dataclasses import fields

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datadsn.engine.lots import LotVersion
from datadsn.ingest.lines import Source
from datadsn.ingest.parser import Counts, ParsedBatch, parse_batch
from datadsn.ingest.pieces import parse_in_pieces
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.sources import SourceRef
from tests import dsn_builder as b

SECRET = Secret(b"pieces-secret-of-thirty-two-bytes!", demo=False)


def _lines(version: str = "P26V01") -> list[tuple[str, str]]:
    """Two envois of several declarations, with what makes a piece depend on the others."""
    bad_value = [
        (r, "77" if r == "S21.G00.40.007" else v)
        for r, v in b.declaration(nic="00031", month="01032024")
    ]
    orphan = b.declaration(nic="00032")
    orphan = [*orphan[:12], ("S21.G00.51.001", "01012024"), *orphan[12:]]
    # the envoi's earliest month comes in its last declaration: its S10 rows wait for it
    first = b.envoi(
        b.declaration(nic="00012", month="01022024"),
        bad_value,
        b.declaration(nic="00013", month="01022024"),
        orphan,
        b.declaration(nic="00014", month="01012024"),
        version=version,
    )
    second = b.envoi(b.declaration(nic="00020", month="01042024"), b.declaration(nic="00021"))
    second[-2] = ("S90.G00.90.001", "999")  # a wrong total: TOTAL_INCOHERENT
    cut = b.envoi(b.declaration(nic="00040"), b.declaration(nic="00041"))[:-2]  # no S90
    return [("S05.G51.00.001", "V01R02"), *first, *second, *cut]


def _text(lines: list[tuple[str, str]], eol: str = "\n") -> bytes:
    text = b.render(lines, eol=eol).decode("latin-1")
    # platform lines and garbage in the middle of declarations
    text = text.replace(
        f"S21.G00.06.001,'123456782'{eol}",
        f"S21.G00.06.001,'123456782'{eol}S21.G00.11.110,'PLATEFORME'{eol}junk{eol}",
        3,
    )
    return text.encode("latin-1")


def _pieces(path, target: int) -> list[ParsedBatch]:
    return list(parse_in_pieces(SourceRef(str(path)), SECRET, target))


def _tables(batches: list[ParsedBatch]) -> dict[str, pl.DataFrame]:
    found: dict[str, list[pl.DataFrame]] = {}
    for batch in batches:
        for name, table in batch.tables.items():
            found.setdefault(name, []).append(pl.from_arrow(table))  # type: ignore[arg-type]
    return {n: pl.concat(f).sort("fichier", "ligne") for n, f in found.items()}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def assert_same(whole: ParsedBatch, parts: list[ParsedBatch]) -> None:
    total = Counts()
    for part in parts:
        total.add(part)
    assert total == Counts(**{f.name: getattr(whole, f.name) for f in fields(Counts)})
    expected = _tables([whole])
    got = _tables(parts)
    assert sorted(got) == sorted(expected)
    for name, frame in expected.items():
        assert got[name].equals(frame), name
    rejections = pl.concat([p.rejections for p in parts])
    assert _sorted(rejections).equals(_sorted(whole.rejections))
    infos = [p.file_info for p in parts if p.file_info is not None]
    assert len(infos) == 1 and infos[0].equals(whole.file_info)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_a_file_in_tiny_pieces_gives_what_the_whole_file_gives(tmp_path, eol):
    data = _text(_lines(), eol)
    path = tmp_path / "lot.dsn"
    path.write_bytes(data)
    whole = parse_batch([Source(str(path), data)], SECRET)
    codes = set(whole.rejections["code"])
    # the cases where a piece depends on the others are there
    assert {"TOTAL_INCOHERENT", "FICHIER_TRONQUE", "CODE_INCONNU", "BLOC_ORPHELIN"} <= codes
    assert whole.tables["enveloppe"].num_rows == 4
    parts = _pieces(path, 1)  # cut wherever it may be
    # cut before every envoi and declaration: the lot line, then 3 envois of 5, 2, 2 declarations
    assert len(parts) == 1 + (1 + 5) + (1 + 2) + (1 + 2)
    assert_same(whole, parts)
    assert_same(whole, _pieces(path, 3000))


def test_approximate_norm_and_latin1_accents_in_pieces(tmp_path):
    lines = _lines(version="P25V01")
    data = _text(lines).replace(b"JOS\xc9", b"JOS\xc9\xc9")  # latin-1 accents, late in the file
    path = tmp_path / "old.dsn"
    path.write_bytes(data)
    whole = parse_batch([Source(str(path), data)], SECRET)
    assert "NORME_APPROCHEE" in set(whole.rejections["code"])
    assert whole.encodings == {"iso-8859-1": 1}
    assert_same(whole, _pieces(path, 1))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.integers(min_value=1, max_value=6000),
    drop=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    copy=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), max_size=4),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_any_piece_size_and_dropped_or_copied_lines(tmp_path, target, drop, copy, eol):
    lines = _lines()
    for index in sorted(set(drop), reverse=True):
        if index < len(lines):
            del lines[index]
    for source, where in copy:  # a line copied elsewhere: totals, envois, declarations astray
        lines.insert(min(where, len(lines)), lines[min(source, len(lines) - 1)])
    data = _text(lines, eol)
    path = tmp_path / "any.dsn"
    path.write_bytes(data)
    whole = parse_batch([Source(str(path), data)], SECRET)
    assert_same(whole, _pieces(path, target))


def test_an_ingestion_in_pieces_writes_the_warehouse_of_a_whole_one(tmp_path, monkeypatch):
    """Through the run: every piece writes its own part, the waiting rows are written once."""
    import duckdb

    from datadsn.ingest import run
    from datadsn.ingest.sources import expand

    path = tmp_path / "lot.dsn"
    path.write_bytes(_text(_lines()))
    content = {}
    for piece in (1 << 20, 1):
        monkeypatch.setattr(run, "PIECE_BYTES", piece)
        root = tmp_path / f"wh{piece}"
        result = run.process_chunk(expand([path]), str(root), LotVersion("lot", "v1"), 3, SECRET)
        assert (
            result.files == 1 and result.lines_read == result.lines_stored + result.lines_rejected
        )
        with duckdb.connect() as con:
            content[piece] = {
                folder.relative_to(root).as_posix(): con.execute(
                    f"select * from read_parquet('{folder}/*.parquet') order by all"
                ).fetchall()
                for folder in sorted({p.parent for p in root.rglob("*.parquet")})
            }
        parts = {p.name for p in root.rglob("*.parquet")}
        assert ("lot-v1-1000003.parquet" in parts) == (piece == 1)  # one part per piece
    assert content[1] == content[1 << 20]
    # the first envoi's rows waited for its last declaration's month, earlier than its first's
    text = path.read_bytes().split(b"\n")
    starts = [i + 1 for i, line in enumerate(text) if line.startswith(b"S10.G00.00.001")]
    assert [row[1] for row in content[1]["raw/envoi/mois_declaration=2024-01"]] == starts
    assert "raw/envoi/mois_declaration=2024-02" not in content[1]


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfnom;pr\xc3\xa9nom\r\nDUPONT;JOS\xc3\x89\r\n\r\nS21.G00;x\n" * 300,
        b"%PDF-1.4\r\x00\x01\xff\xfe binary\rno rubrique here\n" * 300 + b"last line",
        b"S21.G00.30.00 almost\n\n" * 300,
    ],
)
def test_a_large_file_that_is_no_dsn_is_rejected_without_being_parsed(tmp_path, data):
    path = tmp_path / "not.dsn"
    path.write_bytes(data)
    whole = parse_batch([Source(str(path), data)], SECRET)
    assert list(whole.rejections["code"]) == ["FICHIER_NON_DSN"]
    parts = _pieces(path, 1)
    assert len(parts) == 1 and parts[0].carry is None  # from the scan, not parsed
    assert_same(whole, parts)


@pytest.mark.parametrize("wrap", ["gz", "zip"])
def test_a_compressed_file_is_streamed_in_pieces_too(tmp_path, wrap):
    import gzip
    import zipfile

    data = _text(_lines(), "\r\n")
    if wrap == "gz":
        ref = SourceRef(str(tmp_path / "lot.dsn.gz"))
        (tmp_path / "lot.dsn.gz").write_bytes(gzip.compress(data))
    else:
        with zipfile.ZipFile(tmp_path / "lot.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("dsn/lot.dsn", data)
        ref = SourceRef(str(tmp_path / "lot.zip"), "dsn/lot.dsn")
    whole = parse_batch([Source(ref.name, data)], SECRET)
    parts = list(parse_in_pieces(ref, SECRET, 2000))
    assert len(parts) > 3
    assert_same(whole, parts)
