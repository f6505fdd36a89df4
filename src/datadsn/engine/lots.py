"""Lots of the raw store, switched in by one atomic step.

An ingestion run writes a new *version* of its lot (files named ``<lot>-<version>-<part>``)
beside the one served, then commits it by renaming its manifest ``lots/<lot>.json`` into place:
that rename is the one step that switches the lot. Readers (the catalogue, the consolidation)
only see the files of the version each manifest names, so a killed ingestion leaves the
previous version served and its own files unseen; the next ingestion removes them (and the
files of versions replaced since), once no command can be reading them.

Files written before versions existed are named ``<lot>-<part>``; their manifest names no
version, and they stay served as they are.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MANIFESTS = "lots"
# Written by ``_write_atomic`` before its rename: left behind only by a killed run.
TEMP_SUFFIX = ".tmp"
# ``lots/.<lot>-<version>.en-cours``: an ingestion of that version started and has not
# committed yet; left behind by a killed one, it names the interrupted lot without a walk
# over every data file of the warehouse (which grows with the history).
STARTED_SUFFIX = ".en-cours"


@dataclass(frozen=True)
class LotVersion:
    """One ingestion of a lot: the lot (a digest of its input names) and a fresh version id."""

    lot: str
    version: str

    @classmethod
    def new(cls, lot: str) -> LotVersion:
        return cls(lot, uuid.uuid4().hex[:10])

    @property
    def files(self) -> str:
        """A glob matching every file of this version in a folder."""
        return f"{self.lot}-{self.version}-*.parquet"

    def stem(self, part: int | str) -> str:
        """File name (without ``.parquet``) of one part of this version."""
        label = f"{part:05d}" if isinstance(part, int) else part
        return f"{self.lot}-{self.version}-{label}"


Committed = dict[str, str | None]  # lot -> version its manifest names (None: before versions)


def version_of(name: str) -> tuple[str, str | None] | None:
    """(lot, version) of a data file name, None if it is no lot file."""
    if not name.endswith(".parquet") or name.startswith("."):
        return None
    parts = name[: -len(".parquet")].split("-")
    if len(parts) == 3:
        return parts[0], parts[1]
    if len(parts) == 2:
        return parts[0], None
    return None


def committed(root: Path) -> Committed:
    """Every committed lot of the warehouse at ``root`` and the version it serves."""
    folder = root / MANIFESTS
    out: Committed = {}
    if not folder.exists():
        return out
    for path in folder.glob("*.json"):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # unreadable: as if never committed (its files stay unseen)
        out[path.stem] = manifest.get("version")
    return out


def is_served(path: Path | str, lots: Committed) -> bool:
    """Whether the data file ``path`` belongs to the version its lot serves."""
    found = version_of(os.path.basename(path))
    return found is not None and found[0] in lots and lots[found[0]] == found[1]


def served(paths: Iterable[Path], lots: Committed) -> list[Path]:
    return sorted(p for p in paths if is_served(p, lots))


def _started_marker(root: Path, version: LotVersion) -> Path:
    return root / MANIFESTS / f".{version.lot}-{version.version}{STARTED_SUFFIX}"


def begin(root: Path, version: LotVersion) -> None:
    """Mark ``version`` as being written (removed by :func:`commit`)."""
    marker = _started_marker(root, version)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def interrupted(root: Path, lots: Committed) -> list[str]:
    """Lots whose ingestion started a version and never committed it (call it while no
    ingestion runs)."""
    found = set()
    for marker in (root / MANIFESTS).glob(f".*{STARTED_SUFFIX}"):
        lot, _, version = marker.name[1 : -len(STARTED_SUFFIX)].partition("-")
        if lots.get(lot, ...) != version:
            found.add(lot)
    return sorted(found)


def forget_started(root: Path) -> None:
    """Remove every marker of :func:`begin`: once the files no manifest serves are removed,
    no version they name has files left (call it under the ingestion lock)."""
    for marker in (root / MANIFESTS).glob(f".*{STARTED_SUFFIX}"):
        marker.unlink(missing_ok=True)


def commit(root: Path, version: LotVersion, summary: dict) -> None:
    """Switch ``version`` in: write its manifest (the run's summary and the version) beside the
    old one, then rename it into place."""
    folder = root / MANIFESTS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{version.lot}.json"
    staged = folder / f".{version.lot}-{version.version}.json{TEMP_SUFFIX}"
    text = json.dumps({**summary, "version": version.version}, ensure_ascii=False, indent=2)
    with open(staged, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, target)
    _started_marker(root, version).unlink(missing_ok=True)


def unserved(folders: Iterable[Path], lots: Committed) -> list[Path]:
    """Files under ``folders`` that no manifest serves: replaced versions, and what a killed
    run left (files of an uncommitted version, temporary files)."""
    out = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if path.is_dir():
                continue
            if path.name.endswith(TEMP_SUFFIX) or (
                version_of(path.name) is not None and not is_served(path, lots)
            ):
                out.append(path)
    return sorted(out)
