"""Input files: plain files, folders (recursively), .zip archives and .gz files."""

from __future__ import annotations

import gzip
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when loading: the command line lists files before loading Polars
    from datadsn.ingest.lines import Source


class InputError(ValueError):
    """A path given on the command line cannot be read."""


@dataclass(frozen=True)
class SourceRef:
    """Where one DSN file's bytes are: a path, or a member of a zip archive.

    The path is a plain string: a batch lists tens of thousands of files, and building a
    ``Path`` for each took most of the listing's time.
    """

    path: str
    member: str | None = None
    size: int = 0

    @property
    def name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else self.path

    def read(self) -> bytes:
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.member)
        with open(self.path, "rb") as file:
            data = file.read()
        return gzip.decompress(data) if self.path.endswith(".gz") else data

    def load(self) -> Source:
        from datadsn.ingest.lines import Source

        return Source(self.name, self.read())


def _from_file(path: str, size: int | None = None) -> Iterator[SourceRef]:
    if path.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    if not info.is_dir():
                        yield SourceRef(path, info.filename, info.file_size)
        except zipfile.BadZipFile as exc:
            raise InputError(f"{path} : archive zip illisible ({exc})") from exc
    else:
        yield SourceRef(path, None, os.stat(path).st_size if size is None else size)


def walk(folder: str, parts: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, int]]:
    """Every non-hidden file under ``folder``: its relative parts, path and size (one stat
    each), in no particular order."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from walk(entry.path, (*parts, entry.name))
            elif entry.is_file():
                yield (*parts, entry.name), entry.path, entry.stat().st_size


def expand(paths: list[Path]) -> list[SourceRef]:
    """Every DSN file under the given paths, in a stable order (folders: by path components)."""
    refs: list[SourceRef] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} : fichier ou dossier introuvable")
        if path.is_dir():
            for _, child, size in sorted(walk(str(path))):
                refs.extend(_from_file(child, size))
        else:
            refs.extend(_from_file(str(path)))
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
