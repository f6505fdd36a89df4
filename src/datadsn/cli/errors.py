"""The command line's one error boundary: an expected failure becomes one French line.

Every command runs inside :class:`BoundaryGroup`'s ``invoke``. What it lets escape is turned
into ``Erreur : <what happened, naming the path>`` on stderr and an exit code: 2 for a usage error
(a bad month, a missing file, a bad secret...), 1 for a failure at run time (disk full, read-only
warehouse, DuckDB...). The whole traceback is shown only with ``datadsn --debug`` or
``DATADSN_DEBUG=1`` (the portal's development mode already reads it).

Nothing heavy is imported here: Polars, DuckDB and the stages' error classes are looked up in
``sys.modules``, where they are if a command imported them (and so could have raised them).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_REJECTIONS = 3
DEBUG_ENV = "DATADSN_DEBUG"
DEBUG_KEY = "datadsn.debug"


class CommandError(Exception):
    """An expected failure: its French message and the exit code."""

    code = EXIT_FAILURE

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CommandError):
    """The command was given something it cannot use (exit 2)."""

    code = EXIT_USAGE


class Failure(CommandError):
    """The command could not finish (exit 1)."""

    code = EXIT_FAILURE


# The stages' own errors, all with a French message: (module, class) -> exit code. Looked up in
# sys.modules only: an error class whose module was never imported cannot have been raised.
KNOWN: dict[tuple[str, str], int] = {
    ("datadsn.months", "MonthError"): EXIT_USAGE,
    ("datadsn.ingest.pseudonymize", "SecretError"): EXIT_USAGE,
    ("datadsn.ingest.sources", "InputError"): EXIT_USAGE,
    ("datadsn.quality.consolidate", "ConsolidationError"): EXIT_USAGE,
    ("datadsn.quality.evaluate", "EvaluationError"): EXIT_USAGE,
    ("datadsn.indicators.compute", "IndicatorError"): EXIT_USAGE,
    ("datadsn.indicators.rules", "RulesError"): EXIT_USAGE,
    ("datadsn.indicators.release", "ReleaseError"): EXIT_USAGE,
    # the attacker audit refused a release (before its parent class, a usage error)
    ("datadsn.indicators.public", "PublicationRefused"): EXIT_FAILURE,
    ("datadsn.indicators.public", "PublicationError"): EXIT_USAGE,
    ("datadsn.flows.run", "RunError"): EXIT_USAGE,
    ("datadsn.ingest.worker", "WorkerError"): EXIT_FAILURE,
    ("datadsn.engine.locks", "LockedError"): EXIT_FAILURE,  # another ingestion is running
    ("datadsn.engine.backends", "EngineError"): EXIT_USAGE,  # unknown engine, no Spark or Java
    ("datadsn.engine.models", "ModelError"): EXIT_FAILURE,  # a model file's header
    # the portal's settings (DATADSN_SECRET_KEY missing outside development, a bad DATABASE_URL)
    ("django.core.exceptions", "ImproperlyConfigured"): EXIT_USAGE,
}

UNKNOWN_PATH = "(fichier non précisé)"
TARGET = "datadsn_target"  # the attribute :func:`writing` sets on an error passing through


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Name ``path`` in the message of a write error that does not name its file (Arrow's,
    say): the error carries it to the boundary."""
    try:
        yield
    except Exception as exc:
        # an exception type without a __dict__ cannot carry it: no path then
        with suppress(AttributeError):
            if getattr(exc, TARGET, None) is None:
                setattr(exc, TARGET, path)
        raise


def _os_message(code: int | None, path: str, detail: str) -> CommandError:
    if code in (errno.ENOSPC, errno.EDQUOT):
        what = "disque plein" if code == errno.ENOSPC else "quota disque dépassé"
        return Failure(f"{what} en écrivant {path}")
    if code == errno.EROFS:
        return Failure(f"système de fichiers en lecture seule : impossible d'écrire {path}")
    if code in (errno.EACCES, errno.EPERM):
        return Failure(f"permission refusée sur {path}")
    if code == errno.ENOENT:
        return UsageError(f"fichier ou dossier introuvable : {path}")
    if code == errno.ENOTDIR:
        return UsageError(f"{path} : un fichier se trouve là où un dossier est attendu")
    if code == errno.EISDIR:
        return UsageError(f"{path} est un dossier, un fichier est attendu")
    if code == errno.ENOMEM:
        return Failure(f"mémoire insuffisante ({path})")
    if path == UNKNOWN_PATH:  # not a file's error (a port already taken, say)
        return Failure(f"erreur du système : {detail}")
    return Failure(f"erreur d'entrée-sortie sur {path} : {detail}")


# What the C libraries (Arrow, DuckDB) write instead of an errno.
_STRERRORS = {
    os.strerror(code): code
    for code in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
    )
}
_ERRNO = re.compile(r"\[errno (\d+)\]")
_QUOTED_PATH = re.compile(r"[\"'](/[^\"']+)[\"']")


def _code_in(text: str) -> int | None:
    found = _ERRNO.search(text)
    if found:
        return int(found.group(1))
    return next((code for message, code in _STRERRORS.items() if message in text), None)


def _where(exc: BaseException, filename: Any = None) -> str:
    if filename:
        return os.fsdecode(filename)
    quoted = _QUOTED_PATH.search(str(exc))
    if quoted:
        return quoted.group(1)
    target = getattr(exc, TARGET, None)
    return f"dans {target}" if target else UNKNOWN_PATH


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_instance(exc: BaseException, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    kind = getattr(loaded, name, None) if loaded else None
    return isinstance(kind, type) and isinstance(exc, kind)


def explain(exc: BaseException) -> CommandError:
    """The French line and exit code for ``exc``; an unforeseen error is a failure that says so."""
    if isinstance(exc, CommandError):
        return exc
    for (module, name), exit_code in KNOWN.items():
        if _is_instance(exc, module, name):
            return CommandError(str(exc).strip() or type(exc).__name__, exit_code)
    if isinstance(exc, OSError):
        text = str(exc)
        number = exc.errno if exc.errno else _code_in(text)
        return _os_message(number, _where(exc, exc.filename), exc.strerror or _first_line(exc))
    if _is_instance(exc, "duckdb", "Error"):
        text = str(exc)
        number = _code_in(text)
        if number is not None:
            return _os_message(number, _where(exc), _first_line(exc))
        return Failure(f"base DuckDB : {_first_line(exc)}")
    if isinstance(exc, MemoryError):
        return Failure("mémoire insuffisante : réduisez --workers ou le volume traité")
    return Failure(
        f"erreur inattendue ({type(exc).__name__} : {_first_line(exc)}) ; relancez avec "
        "`datadsn --debug ...` pour la trace complète et signalez-la"
    )


def debug_wanted(ctx: typer.Context | None = None) -> bool:
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "oui"):
        return True
    return bool(ctx is not None and ctx.find_root().meta.get(DEBUG_KEY))


def report(problem: CommandError) -> None:
    """One line on stderr: ``Erreur : <message>`` (never wrapped, never read as markup)."""
    label = typer.style("Erreur :", fg="red", bold=True)
    message = " ".join(str(problem).split())
    typer.echo(f"{label} {message}", err=True)


class BoundaryGroup(TyperGroup):
    """The application's group: every command it runs goes through the error boundary."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except Exception as exc:
            if debug_wanted(ctx):
                raise
            problem = explain(exc)
            report(problem)
            raise typer.Exit(problem.code) from None
