"""A declaration is stored once, whatever the lots and files that bring it.

The unit of the raw store is the declaration, not the lot: lots overlap (a folder ingested, then
one of its months again; the same file under two names). Once a lot's new version is written,
and before it is committed, each of its declarations is compared with the declarations the
warehouse serves in other lots, by content (``empreinte``, see ``parser._fingerprints``):

- the same content already served, or earlier in this lot: a duplicate, not stored again and
  reported (``DECLARATION_EN_DOUBLE``, with where it is stored);
- another content served under the same file name and line: a conflict the consolidation could
  not tell apart (it knows a declaration by its file and line), rejected
  (``DECLARATION_CONFLIT``).

Their rows are removed from every table of the version; the summary counts them, so that the
lines read still equal the lines stored, rejected and duplicated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from datadsn.engine.lots import Committed, LotVersion, version_of
from datadsn.engine.runner import quote_path
from datadsn.engine.warehouse import PARTITION, Warehouse
from datadsn.ingest import issues

DECLARATION_TABLE = "declaration"
REPORT_PART = "doublons"


@dataclass
class Deduplicated:
    declarations: int = 0  # duplicates left out
    lines: int = 0  # their stored lines
    conflicts: int = 0
    conflict_lines: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # rows removed per raw table


def deduplicate(store: Warehouse, version: LotVersion, served: Committed) -> Deduplicated:
    """Remove from ``version``'s files the declarations it must not store (see the module)."""
    new = sorted((store.raw / DECLARATION_TABLE).glob(f"{PARTITION}=*/{version.files}"))
    out = Deduplicated()
    if not new:
        return out
    months = sorted({p.parent.name.removeprefix(f"{PARTITION}=") for p in new})
    old = [
        f
        for f in store.table_files(DECLARATION_TABLE, months, served)
        if (owner := version_of(f.name)) is not None and owner[0] != version.lot
    ]
    with duckdb.connect() as con:
        found = _verdicts(con, new, old)
        if not found:
            return out
        con.execute(
            "CREATE TABLE retirees (fichier VARCHAR, ligne INTEGER, source VARCHAR, "
            "verdict VARCHAR, ou VARCHAR, lignes BIGINT)"
        )
        con.executemany("INSERT INTO retirees VALUES (?, ?, ?, ?, ?, ?)", found)
        copies = _whole_copies(con, store, version, new, out.rows)  # before the rewrites
        for source in sorted({row[2] for row in found}):
            _rewrite_part(con, store, Path(source), out.rows)
        for _, _, _, verdict, _, lines in found:
            if verdict != "double":
                out.conflicts += 1
                out.conflict_lines += lines
            else:
                out.declarations += 1
        out.lines = _duplicated_lines(con, copies)
    store.write_rejections(_report(found), version, REPORT_PART)
    return out


def _whole_copies(
    con: duckdb.DuckDBPyConnection,
    store: Warehouse,
    version: LotVersion,
    new: list[Path],
    removed: dict[str, int],
) -> dict[str, int]:
    """The input files of ``version`` whose every declaration is a duplicate, with their stored
    lines: a file sent again. Their envoi-level rows (envoi, sender, total, envelope) are removed
    too, so that ingesting the same files again stores nothing."""
    rows = con.execute(
        f"""SELECT n.fichier FROM {_scan(new)} n LEFT JOIN retirees r
            ON r.fichier = n.fichier AND r.ligne = n.ligne AND r.verdict = 'double'
            GROUP BY n.fichier HAVING count(*) = count(r.fichier)"""
    ).fetchall()
    if not rows:
        return {}
    con.execute("CREATE TEMP TABLE copies AS SELECT unnest(?) AS fichier", [[f for (f,) in rows]])
    info = sorted(store.files.glob(version.files))
    rejected = sorted(store.rejections.glob(version.files))
    stored = con.execute(
        f"""SELECT f.fichier, f.lignes - coalesce((SELECT sum(r.lignes) FROM {_scan(rejected)} r
                                                  WHERE r.fichier = f.fichier AND r.rejet), 0)
            FROM {_scan(info)} f JOIN copies USING (fichier)"""
    ).fetchall()
    for folder in sorted(p for p in store.raw.iterdir() if p.is_dir()):
        if folder.name == DECLARATION_TABLE:
            continue
        for path in sorted(folder.glob(f"{PARTITION}=*/{version.files}")):
            if "declaration_ligne" not in _columns(con, [path]):  # an envoi-level table
                kept = f"SELECT t.* FROM {_scan([path])} t ANTI JOIN copies c USING (fichier)"
                _rewrite(con, path, kept, folder.name, removed)
    return {f: int(n) for f, n in stored}


def _columns(con: duckdb.DuckDBPyConnection, files: list[Path]) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_scan(files)}").fetchall()}


def _duplicated_lines(con: duckdb.DuckDBPyConnection, copies: dict[str, int]) -> int:
    """Stored lines no longer stored: those of the files sent again, whole; of the other
    duplicate declarations, their own."""
    row = con.execute(
        "SELECT coalesce(sum(lignes), 0) FROM retirees WHERE verdict = 'double' "
        "AND fichier NOT IN (SELECT unnest(?))",
        [list(copies)],
    ).fetchone()
    return int(row[0] if row else 0) + sum(copies.values())


def _scan(files: list[Path], filename: bool = False) -> str:
    listed = ", ".join(quote_path(f) for f in files)
    extra = ", filename = true" if filename else ""
    return f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false{extra})"


def _verdicts(
    con: duckdb.DuckDBPyConnection, new: list[Path], old: list[Path]
) -> list[tuple[str, int, str, str, str, int]]:
    """(fichier, ligne, source file, verdict, where it is stored, stored lines) of every
    declaration of ``new`` to leave out."""
    if old:
        fingerprint = "empreinte" if "empreinte" in _columns(con, old) else "NULL::VARCHAR"
        con.execute(
            f"CREATE TEMP TABLE servies AS SELECT fichier, ligne, {fingerprint} AS empreinte "
            f"FROM {_scan(old)}"
        )
    else:
        con.execute("CREATE TEMP TABLE servies (fichier VARCHAR, ligne INTEGER, empreinte VARCHAR)")
    rows = con.execute(
        f"""WITH nouvelles AS (
            SELECT fichier, ligne, empreinte, lignes_rangees, filename AS source,
                   row_number() OVER (PARTITION BY empreinte ORDER BY fichier, ligne) AS rang,
                   first_value(fichier || ' ligne ' || ligne)
                       OVER (PARTITION BY empreinte ORDER BY fichier, ligne) AS premiere
            FROM {_scan(new, filename=True)}
        ), deja AS (
            SELECT empreinte, min(fichier || ' ligne ' || ligne) AS ou
            FROM servies WHERE empreinte IS NOT NULL GROUP BY empreinte
        ), jugees AS (
            SELECT n.fichier, n.ligne, n.source, n.lignes_rangees,
                CASE WHEN d.ou IS NOT NULL THEN 'double'
                     WHEN EXISTS (SELECT 1 FROM servies s
                                  WHERE s.fichier = n.fichier AND s.ligne = n.ligne) THEN 'conflit'
                     WHEN n.rang > 1 THEN 'double' END AS verdict,
                coalesce(d.ou, n.premiere) AS ou
            FROM nouvelles n LEFT JOIN deja d USING (empreinte)
        )
        SELECT fichier, ligne, source, verdict,
               CASE WHEN verdict = 'double' THEN ou END, coalesce(lignes_rangees, 0)
        FROM jugees WHERE verdict IS NOT NULL ORDER BY fichier, ligne"""
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def _rewrite_part(
    con: duckdb.DuckDBPyConnection, store: Warehouse, source: Path, removed: dict[str, int]
) -> None:
    """Every table's file of the same part as the declaration file ``source``, without the
    rows of the declarations in ``retirees``. A chunk writes all the tables of a declaration
    under the same month folder and file name."""
    month, name = source.parent.name, source.name
    for folder in sorted(p for p in store.raw.iterdir() if p.is_dir()):
        path = folder / month / name
        if not path.exists():
            continue
        key = "ligne" if folder.name == DECLARATION_TABLE else "declaration_ligne"
        if key not in _columns(con, [path]):
            continue  # an envoi-level table (envoi, total...): rows of no declaration
        kept = (
            f"SELECT t.* FROM {_scan([path])} t ANTI JOIN retirees r "
            f"ON t.fichier = r.fichier AND t.{key} = r.ligne AND r.source = {quote_path(source)}"
        )
        _rewrite(con, path, kept, folder.name, removed)


def _rewrite(
    con: duckdb.DuckDBPyConnection, path: Path, kept: str, table: str, removed: dict[str, int]
) -> None:
    """Write the rows of ``kept`` in place of the file ``path`` (removed if none is left),
    adding the rows left out to ``removed[table]``."""
    before = _count(con, _scan([path]))
    after = _count(con, f"({kept})")
    if after == before:
        return
    removed[table] = removed.get(table, 0) + before - after
    if after == 0:
        path.unlink()
        return
    tmp = path.with_name(f".{path.name}.tmp")
    con.execute(
        f"COPY ({kept} ORDER BY t.fichier, t.ligne) TO {quote_path(tmp)} "
        "(FORMAT parquet, COMPRESSION zstd)"
    )
    os.replace(tmp, path)


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0


def _report(found: list[tuple[str, int, str, str, str, int]]) -> pa.Table:
    """The rejection rows of the declarations left out (schema of parser.REJECTION_SCHEMA)."""
    kinds = {"double": issues.DECLARATION_EN_DOUBLE, "conflit": issues.DECLARATION_CONFLIT}
    return pa.table(
        {
            "fichier": pa.array([r[0] for r in found], pa.string()),
            "ligne": pa.array([r[1] for r in found], pa.int32()),
            "rubrique": pa.array(["S20.G00.05.001"] * len(found), pa.string()),
            "code": pa.array([kinds[r[3]].code for r in found], pa.string()),
            "niveau": pa.array([kinds[r[3]].level.value for r in found], pa.string()),
            "rejet": pa.array([kinds[r[3]].rejects for r in found], pa.bool_()),
            "message": pa.array([kinds[r[3]].message for r in found], pa.string()),
            "valeur": pa.array([r[4] for r in found], pa.string()),
            "lignes": pa.array([r[5] if kinds[r[3]].rejects else 0 for r in found], pa.int64()),
        }
    )
