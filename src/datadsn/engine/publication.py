"""Folders published by one atomic step: a published name is a symbolic link to a version.

A run writes its folder under a temporary name, renames it to a new hidden version beside the
published name (``.<name>~<id>``), then replaces the link in one ``rename(2)``: a reader finds
the old folder or the new one, never none, whatever the moment the run is killed. Versions no
link names any more (replaced, or left by a killed run) are removed by :func:`tidy`, which the
next run calls under its lock.

A folder published before links existed is a real directory: it is first renamed to the
version ``.<name>~ancien``; if the run dies right then, :func:`tidy` links the name back to it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from datadsn.engine import faults

SEPARATOR = "~"
LEGACY = "ancien"


def version_name(name: str, version: str) -> str:
    return f".{name}{SEPARATOR}{version}"


def publish_folder(tmp: Path, final: Path) -> None:
    """Make the finished folder ``tmp`` the content of ``final`` atomically."""
    parent, name = final.parent, final.name
    parent.mkdir(parents=True, exist_ok=True)
    version = parent / version_name(name, uuid.uuid4().hex[:10])
    os.replace(tmp, version)
    faults.point("publish.version")
    if final.is_dir() and not final.is_symlink():
        os.replace(final, parent / version_name(name, LEGACY))
        faults.point("publish.legacy-set-aside")
    link = parent / f".{name}{SEPARATOR}lien-{uuid.uuid4().hex[:10]}"
    os.symlink(version.name, link)
    os.replace(link, final)
    faults.point("publish.linked")
    tidy(parent, name)


def tidy(parent: Path, name: str | None = None) -> int:
    """Remove the versions under ``parent`` that no link names (those of ``name`` only, if
    given), and the link files a killed run left; first link back a published name whose
    legacy folder was set aside just before a kill. Returns the entries removed."""
    if not parent.exists():
        return 0
    entries = [p for p in parent.iterdir() if p.name.startswith(".") and SEPARATOR in p.name]
    for entry in entries:
        base, _, version = entry.name[1:].partition(SEPARATOR)
        if version == LEGACY and not os.path.lexists(parent / base):
            os.symlink(entry.name, parent / base)
    linked = {
        os.readlink(p) for p in parent.iterdir() if p.is_symlink() and not p.name.startswith(".")
    }
    removed = 0
    for entry in entries:
        base = entry.name[1:].partition(SEPARATOR)[0]
        if (name is not None and base != name) or entry.name in linked:
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink()
        else:
            shutil.rmtree(entry)
        removed += 1
    return removed


def remove(final: Path) -> None:
    """Unpublish ``final``: its link and the version it names (or a legacy real folder)."""
    if final.is_symlink():
        version = final.parent / os.readlink(final)
        final.unlink()
        shutil.rmtree(version, ignore_errors=True)
    elif final.exists():
        shutil.rmtree(final)
