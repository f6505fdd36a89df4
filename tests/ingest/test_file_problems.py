"""Files that cannot be read are rejected one by one; the lot goes on and the command exits 3."""

from __future__ import annotations

import gzip
import io
import os
import signal
import tempfile
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.engine.lots import LotVersion
from datadsn.ingest import sources
from datadsn.ingest.run import process_chunk
from datadsn.ingest.sources import expand
from tests import dsn_builder as b

runner = CliRunner()
GOOD = b.render(b.envoi(b.declaration()))
ROOT = os.geteuid() == 0


@pytest.fixture
def lot(tmp_path, monkeypatch) -> Path:
    """A folder with one good DSN file, beside which each test puts a bad one."""
    monkeypatch.setenv("DATADSN_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")
    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "good.dsn").write_bytes(GOOD)
    return folder


def ingest(*paths: Path, warehouse: Path) -> list[tuple]:
    """Run ``datadsn ingest``: exit 3, the good file stored; the rejections of unread files."""
    result = runner.invoke(app, ["ingest", *map(str, paths), "-w", str(warehouse)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 3, result.output
    with duckdb.connect(str(warehouse / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("select fichier from raw.contrat").fetchall() == [
            (str(paths[0] / "good.dsn"),)
        ]
        files = con.execute("select fichier, lignes from raw.fichiers where lignes = 0").fetchall()
        rows = con.execute(
            "select fichier, ligne, code, niveau, rejet, lignes, message from raw.rejections"
        ).fetchall()
    assert sorted(f for f, _ in files) == sorted(r[0] for r in rows)
    for _, ligne, _, niveau, rejet, lignes, message in rows:
        assert (ligne, niveau, rejet, lignes) == (None, "fichier", True, 0)
        assert message
    return [(r[0], r[2]) for r in rows]


def test_a_fifo_is_rejected_never_read(lot, tmp_path):
    os.mkfifo(lot / "pipe.dsn")

    def blocked(*_):  # reading a FIFO waits forever: fail instead
        raise TimeoutError("the ingestion opened the FIFO")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(60)
    try:
        _ingest_fifo(lot, tmp_path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _ingest_fifo(lot: Path, tmp_path: Path) -> None:
    assert ingest(lot, warehouse=tmp_path / "wh") == [(str(lot / "pipe.dsn"), "FICHIER_SPECIAL")]
    # given on the command line too: listed, never opened (it would block forever)
    rows = ingest(lot, lot / "pipe.dsn", warehouse=tmp_path / "wh2")
    assert rows == [(str(lot / "pipe.dsn"), "FICHIER_SPECIAL")] * 2


def test_a_dangling_link_is_rejected(lot, tmp_path):
    (lot / "gone.dsn").symlink_to(tmp_path / "nowhere.dsn")
    assert ingest(lot, warehouse=tmp_path / "wh") == [(str(lot / "gone.dsn"), "LIEN_CASSE")]


def test_a_link_to_a_folder_is_reported_not_followed(lot, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (lot / "other").symlink_to(tmp_path / "elsewhere")
    assert ingest(lot, warehouse=tmp_path / "wh") == [(str(lot / "other"), "FICHIER_SPECIAL")]


def _deny(monkeypatch, path: Path) -> None:
    """Make ``path`` unreadable: chmod 000, and since root reads it anyway, refuse its opening."""
    path.chmod(0)
    if ROOT:
        real_open = os.open

        def refusing(file, flags, *args, **kwargs):
            if os.fsdecode(file) == str(path):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(file, flags, *args, **kwargs)

        monkeypatch.setattr(sources.os, "open", refusing)


def test_an_unreadable_file_is_rejected(lot, tmp_path, monkeypatch):
    secret = lot / "secret.dsn"
    secret.write_bytes(GOOD)
    _deny(monkeypatch, secret)
    assert ingest(lot, warehouse=tmp_path / "wh") == [(str(secret), "FICHIER_INACCESSIBLE")]


def test_an_unreadable_sub_folder_is_rejected(lot, tmp_path, monkeypatch):
    closed = lot / "closed"
    closed.mkdir()
    (closed / "x.dsn").write_bytes(GOOD)
    closed.chmod(0)
    if ROOT:  # root lists it anyway: refuse the listing as the system would
        real_scandir = os.scandir

        def refusing(path):
            if os.fsdecode(path) == str(closed):
                raise PermissionError(13, "Permission denied", str(closed))
            return real_scandir(path)

        monkeypatch.setattr(sources.os, "scandir", refusing)
    try:
        assert ingest(lot, warehouse=tmp_path / "wh") == [(str(closed), "FICHIER_INACCESSIBLE")]
    finally:
        closed.chmod(0o755)


def test_a_file_name_that_is_not_utf8_is_rejected_and_stored_escaped(lot, tmp_path):
    fd = os.open(os.fsencode(lot) + b"/bad\xff.dsn", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, GOOD)
    os.close(fd)
    rows = ingest(lot, warehouse=tmp_path / "wh")
    assert rows == [(f"{lot}/bad\\xff.dsn", "NOM_FICHIER_INVALIDE")]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("plain.dsn.gz", GOOD, "ARCHIVE_INVALIDE"),
        ("cut.dsn.gz", gzip.compress(GOOD)[:-30], "ARCHIVE_TRONQUEE"),
        (
            "crc.dsn.gz",
            gzip.compress(GOOD)[:-8] + b"\0\0\0\0" + gzip.compress(GOOD)[-4:],
            "ARCHIVE_CORROMPUE",
        ),
        ("junk.zip", b"PK\x03\x04 not really a zip", "ARCHIVE_INVALIDE"),
    ],
)
def test_a_bad_compressed_file_is_rejected(lot, tmp_path, name, content, code):
    (lot / name).write_bytes(content)
    assert ingest(lot, warehouse=tmp_path / "wh") == [(str(lot / name), code)]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_member_with_a_bad_crc_is_rejected_its_sibling_ingested(lot, tmp_path):
    other = b.render(b.envoi(b.declaration(nic="00020")))
    data = _zip({"a.dsn": GOOD.replace(b"LISBONNE", b"LISBOA  "), "b.dsn": other})
    (lot / "lot.zip").write_bytes(data.replace(b"LISBOA  ", b"LISBONNE"))  # CRC of the first
    wh = tmp_path / "wh"
    result = runner.invoke(app, ["ingest", str(lot / "lot.zip"), "-w", str(wh)])
    assert result.exit_code == 3, result.output
    with duckdb.connect(str(wh / "catalog.duckdb"), read_only=True) as con:
        stored = con.execute("select fichier from raw.contrat").fetchall()
        rejected = con.execute("select fichier, code, lignes from raw.rejections").fetchall()
    assert stored == [(f"{lot}/lot.zip!b.dsn",)]
    assert rejected == [(f"{lot}/lot.zip!a.dsn", "ARCHIVE_CORROMPUE", 0)]


def test_a_decompression_bomb_is_rejected_at_the_limit(lot, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "RATIO_MIN_BYTES", 1 << 20)  # 1 MiB instead of 64: a fast test
    zeros = b"\0" * (3 << 20)
    (lot / "bomb.dsn.gz").write_bytes(gzip.compress(zeros))
    (lot / "bomb.zip").write_bytes(_zip({"x.dsn": b""}))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.dsn", zeros)
    (lot / "bomb.zip").write_bytes(buffer.getvalue())
    rows = ingest(lot, warehouse=tmp_path / "wh")
    assert rows == [
        (str(lot / "bomb.dsn.gz"), "DECOMPRESSION_EXCESSIVE"),
        (f"{lot}/bomb.zip!x.dsn", "DECOMPRESSION_EXCESSIVE"),
    ]


def test_a_missing_path_stays_a_usage_error(lot, tmp_path):
    result = runner.invoke(app, ["ingest", str(lot), str(lot / "absent"), "-w", str(tmp_path)])
    assert result.exit_code == 2 and "introuvable" in result.output


@pytest.mark.parametrize("eol", ["\r", "\r\n"])
def test_cr_line_endings_are_line_breaks(tmp_path, monkeypatch, eol):
    monkeypatch.setenv("DATADSN_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")
    lines = b.envoi(b.declaration())
    path = tmp_path / "mac.dsn"
    path.write_bytes(b.render(lines, eol=eol))
    wh = tmp_path / "wh"
    result = runner.invoke(app, ["ingest", str(path), "-w", str(wh)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(wh / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("select lignes from raw.fichiers").fetchall() == [(len(lines),)]
        contrat = con.execute("select ligne from raw.contrat").fetchall()
    assert contrat == [(1 + [r for r, _ in lines].index("S21.G00.40.001"),)]


# --- whole files, any shape -----------------------------------------------------------------


def _wrap(data: bytes, how: str, name: str) -> tuple[str, bytes]:
    if how == "gz":
        return f"{name}.gz", gzip.compress(data)
    if how == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        return f"{name}.zip", buffer.getvalue()
    return name, data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "latin-1"]),
    how=st.sampled_from(["plain", "gz", "zip"]),
    cut=st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)),
    piece=st.sampled_from([1, 700, 1 << 20]),
)
@example(eol="\n", encoding="utf-8", how="gz", cut=0.0, piece=700)  # an empty .gz
@example(eol="\n", encoding="utf-8", how="zip", cut=0.5, piece=1 << 20)
def test_any_file_never_crashes_and_reconciles(eol, encoding, how, cut, piece):
    decls = [b.declaration(nic=f"0001{i}", month=f"01{i:02d}2024") for i in range(1, 4)]
    data = b.render(b.envoi(*decls), eol=eol, encoding=encoding)
    name, content = _wrap(data, how, "f.dsn")
    if cut is not None:  # truncated anywhere: text, gzip stream or zip archive
        content = content[: int(len(content) * cut)]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_bytes(content)
        import datadsn.ingest.run as run

        saved = run.PIECE_BYTES
        run.PIECE_BYTES = piece  # also in pieces: tiny pieces, or the whole file at once
        try:
            refs = expand([Path(tmp)])
            result = process_chunk(
                refs, str(Path(tmp) / "wh"), LotVersion("lot", "v1"), 0, run_secret()
            )
        finally:
            run.PIECE_BYTES = saved
    assert result.files == max(len(refs), 1)
    assert result.lines_read == result.lines_stored + result.lines_rejected
    if cut is None:
        assert result.lines_rejected == 0 and result.lines_read == len(b.envoi(*decls))
    elif how != "plain" and not result.lines_read:
        assert result.rejections  # an archive cut short is a rejection, not silence


def run_secret():
    from datadsn.ingest.pseudonymize import Secret

    return Secret(b"property-secret-of-thirty-two-bytes", demo=False)
