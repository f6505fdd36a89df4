"""The SQL runner: executes portable SQL steps on an engine backend (DuckDB or Spark).

A step is one ``.sql`` file holding a single SELECT (DuckDB dialect, portable subset). The runner
materialises it as a table or a view of the backend (``engine/backends``); the SQL never writes
files itself, the backend does (``Backend.write_parquet``), so the same step runs on Spark.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from datadsn.engine.backends import Backend

# Constructs outside the portable subset (ARCHITECTURE.md, rule 4).
_FORBIDDEN = (
    (
        re.compile(r"\bwith\s+recursive\b", re.I),
        "WITH RECURSIVE (utiliser une boucle de point fixe)",
    ),
    (re.compile(r"\bmerge\s+into\b", re.I), "MERGE (reconstruire la table)"),
    (re.compile(r"\b(copy|create|insert|update|delete|drop)\b\s", re.I), "écriture dans le SQL"),
)


class StepError(RuntimeError):
    """A step failed: its name and the engine's message."""


@dataclass(frozen=True)
class Step:
    """One SQL model: ``name`` is the table it produces, ``layer`` its folder."""

    name: str
    layer: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def load_step(folder: Path, layer: str, name: str) -> Step:
    path = folder / layer / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(path)
    return Step(name=name, layer=layer, path=path)


def check_portable(sql: str) -> list[str]:
    """Problems that keep a step out of the portable subset (empty list when fine)."""
    text = _strip_comments(sql)
    return [why for pattern, why in _FORBIDDEN if pattern.search(text)]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def cast_list(columns: dict[str, str], present: set[str] | None = None) -> str:
    """``CAST(c AS type) AS c`` for each declared column, in order; a column missing from
    ``present`` (an older file) reads as NULL."""
    return ", ".join(
        f"CAST({c if present is None or c in present else 'NULL'} AS {t}) AS {c}"
        for c, t in columns.items()
    )


def run_step(
    db: Backend,
    step: Step,
    append: bool = False,
    view: bool = False,
    columns: dict[str, str] | None = None,
) -> None:
    """Materialise a step as a table (or add its rows to it). With ``view``, define it as a
    view instead: for a union of tables read once, copying every row into a table of its own
    is all the step would do. With ``columns`` (name -> SQL type), the output has exactly these
    columns, cast to these types: the declared schema, not each engine's inference, decides
    what is written."""
    sql = _strip_comments(step.sql).strip().rstrip(";")
    if columns:
        sql = f"SELECT {cast_list(columns)} FROM ({sql}) AS {step.name}"
    try:
        if append:
            db.append(step.name, sql)
        else:
            db.create(step.name, sql, kind="view" if view else "table")
    except Exception as exc:
        if not _engine_error(exc):
            raise
        raise StepError(f"étape {step.layer}/{step.name} en échec : {exc}") from exc


def _engine_error(exc: Exception) -> bool:
    """An error of the SQL engine (DuckDB's, or Spark's analysis and execution errors)."""
    if isinstance(exc, duckdb.Error):
        return True
    module = type(exc).__module__
    return module.startswith(("pyspark.", "py4j.", "sqlglot."))


def table_from_lists(db: Backend, name: str, columns: dict[str, tuple[str, list]]) -> None:
    """Table ``name`` from Python lists of one length (column -> (SQL type, values); None is
    NULL). The values travel as texts cast by the engine (``Backend.from_texts``): given a list
    parameter, or rows to ``executemany``, DuckDB's Python client converts values one by one
    (0.15 s a run for the 1,100 raw files of 48 months)."""
    staged = f"{name}_texte"
    db.from_texts(
        staged,
        {c: [None if v is None else str(v) for v in values] for c, (_, values) in columns.items()},
    )
    try:
        casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, (t, _) in columns.items())
        db.create(name, f"SELECT {casts} FROM {staged}")
    finally:
        db.drop(staged)


def to_spark(sql: str) -> str:
    """The same step in Spark SQL (SQLGlot, DuckDB dialect in, Spark out)."""
    import sqlglot  # on first use: a DuckDB run has no need of it (0.15 s of CPU at start)
    from sqlglot.errors import ErrorLevel

    out = sqlglot.transpile(
        _strip_comments(sql), read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
    )
    if len(out) != 1:
        raise ValueError(f"une étape doit contenir une seule requête, trouvé {len(out)}")
    return out[0]


def quote_path(path: Path | str) -> str:
    """A file path as a SQL string literal (not parsed again as a ``Path``: a catalogue
    rebuild quotes 1,400 archive files, which took 0.02 s that way)."""
    return "'" + os.fspath(path).replace("'", "''") + "'"
