"""What the command modules share: consoles, the warehouse option, checks run before writing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from .errors import UsageError, explain

if TYPE_CHECKING:
    from rich.progress import Progress

    from datadsn.engine.warehouse import Warehouse

console = Console()
err = Console(stderr=True)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        "-w",
        help="Dossier de l'entrepôt (défaut : $DATADSN_HOME/warehouse, sinon .datadsn/warehouse).",
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Moteur d'exécution : duckdb ou spark (défaut : $DATADSN_ENGINE, sinon duckdb).",
    ),
]
MasterOpt = Annotated[
    str | None,
    typer.Option(
        "--master",
        help="Maître Spark (spark://hôte:7077, local[2]...) ; défaut : $SPARK_REMOTE (Spark "
        "Connect), $SPARK_MASTER, sinon local[*].",
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Lots de fichiers traités en parallèle, au moins 1 (défaut : cœurs ; au-delà de "
        "96 Mo, dans des processus auxiliaires).",
    ),
]


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def folder(path: Path, what: str) -> Path:
    """``path`` as a folder to write in: it is one (or can be created), and is writable. Run
    before anything is written, so that a bad path stops the command with nothing done."""
    path = path.absolute()
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise UsageError(f"{what} {path} : {ancestor} est un fichier, pas un dossier")
    try:
        path.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=path, prefix=".datadsn-essai-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:  # the folder's name, not the probe's, in the message
        raise explain(OSError(exc.errno, exc.strerror, str(path))) from exc
    return path


def warehouse(path: Path | None, write: bool = False) -> Warehouse:
    """The warehouse of ``-w`` (else ``$DATADSN_HOME/warehouse``); with ``write``, checked to
    be a folder the command can write in before it writes anything."""
    from datadsn.engine.warehouse import Warehouse

    store = Warehouse.at(path)
    if store.root.exists() and not store.root.is_dir():
        raise UsageError(f"l'entrepôt {store.root} est un fichier, pas un dossier (option -w)")
    if write:
        folder(store.root, "entrepôt")
    return store


def output_file(path: Path, option: str) -> Path:
    """A file a command will write at its end, checked at its start: its folder exists and is
    writable, and it is not a folder itself."""
    path = path.absolute()
    if path.is_dir():
        raise UsageError(f"{option} {path} est un dossier, un nom de fichier est attendu")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {path} : le dossier {path.parent} n'existe pas")
    folder(path.parent, option)
    return path


def byte_progress(label: str) -> Progress:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
