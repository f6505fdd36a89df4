"""Input files: plain files, folders (recursively), .zip archives and .gz files.

Listing never reads a file and never fails on one: what cannot be read as a regular file (a FIFO,
a socket, a dangling link, a name that is not UTF-8, an unreadable sub-folder or archive) is
listed with its problem, and the ingestion writes one file-level rejection for it. Reading
streams: a compressed file is never expanded in memory beyond what the caller asks for, and
stops with a rejection when it expands beyond the limits below (decompression bombs).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import lzma
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from datadsn.ingest import issues

MIB = 1024 * 1024
# Decompression guard. A DSN compresses 10 to 30 times (repeated rubrique codes); a file whose
# content exceeds MAX_RATIO times its compressed size, once past RATIO_MIN_BYTES, is refused as a
# probable bomb (a small file of repeated lines may legitimately compress better). Whatever the
# ratio, no file may expand beyond MAX_EXPANDED_BYTES.
MAX_RATIO = 200
RATIO_MIN_BYTES = 64 * MIB
MAX_EXPANDED_BYTES = 16 * 1024 * MIB
READ_BLOCK = 4 * MIB
BOM = b"\xef\xbb\xbf"


class InputError(ValueError):
    """A path given on the command line cannot be read."""


class FileProblem(Exception):
    """One file cannot be read: its issue code and a French detail for the rejection."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def display_name(path: str) -> str:
    """The path as valid text: bytes that are not UTF-8 (held as surrogates by Python) are
    written ``\\xNN``, so that a file name never stops the ingestion nor the Parquet writer."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class SourceRef:
    """Where one DSN file's bytes are: a path, or a member of a zip archive.

    The path is a plain string: a batch lists tens of thousands of files, and building a
    ``Path`` for each took most of the listing's time. ``problem`` is the issue code of a file
    that is rejected without being read (with ``detail``); ``packed`` is the compressed size of a
    zip member (for the decompression guard).
    """

    path: str
    member: str | None = None
    size: int = 0
    problem: str | None = None
    detail: str = ""
    packed: int = 0

    @property
    def name(self) -> str:
        path = display_name(self.path)
        return f"{path}!{self.member}" if self.member else path

    @property
    def compressed(self) -> bool:
        return self.member is not None or self.path.lower().endswith(".gz")

    @contextlib.contextmanager
    def open(self) -> Iterator[_Stream]:
        """The file's content as a stream (decompressed, guarded); problems as FileProblem."""
        with contextlib.ExitStack() as stack:
            with _problems():
                file = stack.enter_context(_open_regular(self.path))
                raw: IO[bytes] = file
                packed = None
                if self.member is not None:
                    archive = stack.enter_context(zipfile.ZipFile(file))
                    info = archive.getinfo(self.member)
                    raw, packed = stack.enter_context(archive.open(info)), info.compress_size
                elif self.compressed:
                    packed = os.fstat(file.fileno()).st_size
                    if not packed:  # gzip's smallest file is 20 bytes
                        raise FileProblem(issues.ARCHIVE_INVALIDE.code, "fichier .gz vide")
                    gz = gzip.GzipFile(fileobj=file, mode="rb")
                    raw = cast(IO[bytes], stack.enter_context(gz))
            yield _Stream(raw, packed)

    def read(self, limit: int) -> bytes | None:
        """The whole content, or None when it is larger than ``limit`` bytes."""
        if not self.compressed and self.size > limit:
            return None
        blocks, total = [], 0
        # a read allocates what it asks for: the listed size first (a plain file's, + 1 to see
        # it grow), then doubling blocks, never more than ``limit`` + 1 in all
        step = self.size + 1 if not self.compressed else 1 << 16
        with self.open() as stream:
            while total <= limit and (block := stream.read(min(step, limit + 1 - total))):
                blocks.append(block)
                total += len(block)
                step = min(2 * step, READ_BLOCK)
        return None if total > limit else b"".join(blocks)


class _Stream:
    """A file's content, read in blocks: errors become FileProblem, and a decompressing stream
    (``packed`` is its compressed size) stops when it grows beyond the guard's limits."""

    def __init__(self, raw: IO[bytes], packed: int | None) -> None:
        self.raw, self.packed, self.total = raw, packed, 0

    def read(self, size: int) -> bytes:
        with _problems():
            data = self.raw.read(size)
        self.total += len(data)
        if self.packed is None:
            return data
        packed = max(self.packed, 1)
        if self.total > MAX_EXPANDED_BYTES or (
            self.total > RATIO_MIN_BYTES and self.total > MAX_RATIO * packed
        ):
            raise FileProblem(
                issues.DECOMPRESSION_EXCESSIVE.code,
                f"plus de {self.total // MIB} Mio décompressés pour {packed} octets "
                f"compressés ; limites : rapport {MAX_RATIO}:1 au-delà de "
                f"{RATIO_MIN_BYTES // MIB} Mio, {MAX_EXPANDED_BYTES // MIB} Mio au plus",
            )
        return data


@contextlib.contextmanager
def _open_regular(path: str) -> Iterator[IO[bytes]]:
    """Open without blocking on a FIFO, and refuse anything but a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileProblem(issues.FICHIER_SPECIAL.code, _kind(mode))
        os.set_blocking(fd, True)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file


@contextlib.contextmanager
def _problems() -> Iterator[None]:
    """Turn the errors of opening, decompressing and reading one file into a FileProblem."""
    try:
        yield
    except FileProblem:
        raise
    except gzip.BadGzipFile as exc:  # before OSError, its parent
        if "Not a gzipped file" in str(exc):
            raise FileProblem(
                issues.ARCHIVE_INVALIDE.code, "fichier .gz qui n'est pas au format gzip"
            ) from exc
        raise FileProblem(issues.ARCHIVE_CORROMPUE.code, f"gzip : {exc}") from exc
    except EOFError as exc:
        raise FileProblem(
            issues.ARCHIVE_TRONQUEE.code, "le flux compressé s'arrête avant sa fin"
        ) from exc
    except zipfile.BadZipFile as exc:
        text = str(exc)
        if "CRC" in text:
            code = issues.ARCHIVE_CORROMPUE.code
        elif "runcated" in text:
            code = issues.ARCHIVE_TRONQUEE.code
        else:
            code = issues.ARCHIVE_INVALIDE.code
        raise FileProblem(code, f"zip : {text}") from exc
    except (zlib.error, lzma.LZMAError) as exc:
        raise FileProblem(issues.ARCHIVE_CORROMPUE.code, f"données compressées : {exc}") from exc
    except KeyError as exc:  # a member gone since the archive was listed
        raise FileProblem(issues.ARCHIVE_INVALIDE.code, f"membre absent : {exc}") from exc
    except (NotImplementedError, RuntimeError, UnicodeDecodeError) as exc:  # method, encryption
        raise FileProblem(issues.ARCHIVE_INVALIDE.code, f"zip non pris en charge : {exc}") from exc
    except PermissionError as exc:
        raise FileProblem(
            issues.FICHIER_INACCESSIBLE.code, "lecture refusée (droits insuffisants)"
        ) from exc
    except OSError as exc:
        raise FileProblem(issues.FICHIER_INACCESSIBLE.code, exc.strerror or str(exc)) from exc


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "tube nommé (FIFO), jamais ouvert : il bloquerait la lecture"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "fichier de périphérique"
    if stat.S_ISDIR(mode):
        return "lien vers un dossier, non suivi (donnez le dossier lui-même)"
    return "type de fichier non pris en charge"


def _from_file(path: str, size: int) -> Iterator[SourceRef]:
    """The DSN files of one regular file: itself, or the members of a zip archive."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        yield SourceRef(path, None, size, issues.NOM_FICHIER_INVALIDE.code, "octets hors UTF-8")
        return
    if not path.lower().endswith(".zip"):
        yield SourceRef(path, None, size)
        return
    try:
        with _problems(), _open_regular(path) as file, zipfile.ZipFile(file) as archive:
            infos = sorted(archive.infolist(), key=lambda i: i.filename)
    except FileProblem as problem:
        yield SourceRef(path, None, size, problem.code, problem.detail)
        return
    for info in infos:
        if not info.is_dir():
            yield SourceRef(path, info.filename, info.file_size, packed=info.compress_size)


# One entry of a folder: relative parts, path, size, problem code (None: a regular file), detail.
Entry = tuple[tuple[str, ...], str, int, str | None, str]


def walk(folder: str, parts: tuple[str, ...] = ()) -> Iterator[Entry]:
    """Every non-hidden entry under ``folder`` that is not a folder: regular files with their
    size (one stat each), anything else with its problem; in no particular order. An unreadable
    sub-folder is an entry with its problem; the top folder itself must be readable."""
    try:
        entries = os.scandir(folder)
    except OSError as exc:
        if not parts:
            raise
        yield parts, folder, 0, issues.FICHIER_INACCESSIBLE.code, _folder_error(exc)
        return
    with entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            here = (*parts, entry.name)
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from walk(entry.path, here)
                    continue
                mode_of = entry.stat(follow_symlinks=False)
                if entry.is_symlink():
                    try:
                        mode_of = os.stat(entry.path)
                    except OSError:
                        target = os.readlink(entry.path)
                        detail = f"sa cible {display_name(target)} n'existe pas"
                        yield here, entry.path, 0, issues.LIEN_CASSE.code, detail
                        continue
            except OSError as exc:
                detail = exc.strerror or str(exc)
                yield here, entry.path, 0, issues.FICHIER_INACCESSIBLE.code, detail
                continue
            if stat.S_ISREG(mode_of.st_mode):
                yield here, entry.path, mode_of.st_size, None, ""
            else:
                yield here, entry.path, 0, issues.FICHIER_SPECIAL.code, _kind(mode_of.st_mode)


def _folder_error(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "dossier illisible (droits insuffisants), son contenu n'est pas lu"
    return f"dossier illisible ({exc.strerror or exc}), son contenu n'est pas lu"


def expand(paths: list[Path]) -> list[SourceRef]:
    """Every DSN file under the given paths, in a stable order (folders: by path components)."""
    refs: list[SourceRef] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{display_name(str(path))} : fichier ou dossier introuvable")
        if path.is_dir():
            try:
                listed = sorted(walk(str(path)), key=lambda e: e[0])
            except OSError as exc:
                raise InputError(f"{display_name(str(path))} : {_folder_error(exc)}") from exc
            for _, child, size, problem, detail in listed:
                if problem is None:
                    refs.extend(_from_file(child, size))
                else:
                    refs.append(SourceRef(child, None, size, problem, detail))
        else:
            info = path.stat()
            mode = info.st_mode
            if stat.S_ISREG(mode):
                refs.extend(_from_file(str(path), info.st_size))
            else:
                refs.append(SourceRef(str(path), None, 0, issues.FICHIER_SPECIAL.code, _kind(mode)))
    return refs


def chunks(refs: list[SourceRef], max_bytes: int, max_files: int) -> Iterator[list[SourceRef]]:
    """Groups of files small enough to parse in memory at once."""
    chunk: list[SourceRef] = []
    size = 0
    for ref in refs:
        if chunk and (size + ref.size > max_bytes or len(chunk) >= max_files):
            yield chunk
            chunk, size = [], 0
        chunk.append(ref)
        size += ref.size
    if chunk:
        yield chunk


# --- files in pieces ----------------------------------------------------------------------------

# A line where a large file may be cut: the first line of an envoi or of a declaration, written
# the plain way (quoted value, closing apostrophe), so that the parser reads it as a data line
# starting a new block instance. The lookahead keeps only complete lines.
_CUT = re.compile(rb"(?<=[\r\n])S(10\.G00\.00|20\.G00\.05)\.001,'[^\r\n]+'(?=[\r\n])")
_VERSION = re.compile(rb"(?<=[\r\n])S10\.G00\.00\.006,'([^\r\n]*)(?=[\r\n])")
ENVOI_CUT, DECLARATION_CUT = "envoi", "declaration"


@dataclass(frozen=True)
class FileFacts:
    """What the parser of a file's pieces must know of the whole file before its first piece."""

    encoding: str  # utf-8 when the whole file is valid UTF-8, else iso-8859-1
    version: str | None  # its first S10.G00.00.006 value, as the whole-file parser reads it
    size: int = 0  # bytes of content (decompressed, byte order mark included)
    lines: int = 0  # lines, as the parser splits them
    rubriques: bool = True  # a line starts like a rubrique (Sxx.Gxx.xx.xxx): not FICHIER_NON_DSN


_RUBRIQUE = re.compile(rb"(?<=[\r\n])S\d\d\.G\d\d\.\d\d\.\d\d\d")


def scan(ref: SourceRef) -> FileFacts:
    """Read the whole file once, streaming: its encoding, declared norm version, lines and
    whether any line looks like a rubrique, and any problem of its compression (truncation,
    CRC, bomb) before a single piece is parsed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid, version, rubriques = True, None, False
    size = separators = 0
    last = b""  # the last byte read
    tail = b"\n"  # from the last line separator read: the file's start is a line start
    with ref.open() as stream:
        while block := stream.read(READ_BLOCK):
            if not size and block.startswith(BOM):  # dropped before the lines are split
                size, block = len(BOM), block[len(BOM) :]
            size += len(block)
            if not block:
                continue
            if valid and not (block.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid = False
            # LF, CRLF and lone CR each end a line
            separators += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            separators -= last == b"\r" and block[:1] == b"\n"
            last = block[-1:]
            if version is None or not rubriques:  # searched in complete lines only
                text = tail + block
                end = max(text.rfind(b"\n"), text.rfind(b"\r")) + 1
                if version is None and (found := _VERSION.search(text, 0, end)):
                    version = found.group(1)
                rubriques = rubriques or _RUBRIQUE.search(text, 0, end) is not None
                tail = text[end - 1 :]
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    if version is None and (found := _VERSION.search(tail + b"\n")):
        version = found.group(1)
    rubriques = rubriques or _RUBRIQUE.search(tail) is not None
    encoding = "utf-8" if valid else "iso-8859-1"
    value = None
    if version is not None:
        value = version.decode("utf-8" if valid else "latin-1").removesuffix("'")
    lines = separators + (last not in (b"\n", b"\r")) if last else 0
    return FileFacts(encoding, value, size, lines, rubriques)


def pieces(stream: _Stream, target: int) -> Iterator[tuple[bytes, str | None]]:
    """The content cut at line starts into pieces of at least ``target`` bytes (but for the
    last), each with the kind of the cut that ends it (None for the last piece).

    A piece ends right before an envoi's or a declaration's first line; never before a
    declaration that follows a total (S90) of its envoi, where the envoi's counts would span
    two pieces. A piece grows beyond ``target`` only when no such line comes sooner (one very
    large declaration).
    """
    buf = bytearray()
    after_total = False  # at offset ``known`` of buf: a line S90 came after the last envoi line
    known = 0
    searched = 0  # lines starting before this offset are no candidates
    while True:
        cut = None
        for match in _CUT.finditer(buf, max(target, searched, 1)):
            after_total = _after_total(buf, known, match.start(), after_total)
            known = match.start()
            if match.group(1) == b"10.G00.00":
                cut = ENVOI_CUT
            elif not after_total:
                cut = DECLARATION_CUT
            if cut is not None:
                break
        if cut is not None:
            yield bytes(memoryview(buf)[:known]), cut
            del buf[:known]
            known = searched = 0
            continue
        # no cut in the complete lines read: read on (the last line may be incomplete)
        low = max(len(buf) - READ_BLOCK, searched)  # what was not searched yet
        searched = max(buf.rfind(b"\n", low), buf.rfind(b"\r", low), searched)
        block = stream.read(READ_BLOCK)
        if not block:
            if buf:
                yield bytes(buf), None
            return
        buf += block


def _after_total(buf: bytearray, begin: int, end: int, before: bool) -> bool:
    """Whether, at ``end``, a line starting with S90 came after the last envoi line, knowing
    whether it did at ``begin`` (only the lines between are searched)."""
    total = _last_line_start(buf, b"S90", begin, end)
    envoi = _last_line_start(buf, b"S10.G00.00.", begin, end)
    if total < 0 and envoi < 0:
        return before
    return total > envoi


def _last_line_start(buf: bytearray, prefix: bytes, begin: int, end: int) -> int:
    low = max(begin - 1, 0)
    found = buf.rfind(b"\n" + prefix, low, end)
    if buf.find(b"\r", low, end) >= 0:  # CR line ends (rare): a second search
        found = max(found, buf.rfind(b"\r" + prefix, low, end))
    if found < 0 and begin == 0 and buf.startswith(prefix) and len(prefix) <= end:
        return 0
    return found
