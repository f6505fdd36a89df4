"""Quality snapshots on disk: ``quality/<YYYY-MM>/<table>.parquet`` and ``quality/CURRENT``.

A run writes into a hidden temporary folder, then publishes it by one atomic step (each month's
name is a link to a hidden version, replaced in one rename: ``engine/publication.py``); CURRENT
is replaced atomically last. A kill at any point leaves every published snapshot readable and
CURRENT naming one; the next run removes what was left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import duckdb

from datadsn.engine import faults, publication
from datadsn.engine.backends.duck import texts_query
from datadsn.engine.warehouse import (
    CATALOGUE_STATE,
    Warehouse,
    keep_schema,
    register_catalog_hook,
)

from . import history
from .schema import INTERNAL, TABLES

MONTH = re.compile(r"^\d{4}-\d{2}$")
MONTH_SCHEMAS = 12  # past months with their own schema; older ones via quality_historique
# The files of each published month the catalogue reads, kept in the catalogue under the
# version the month's link names (see ``_listing``), with their columns in DuckDB's types. The
# listing of earlier versions, in polars' type names, is dropped: mixing both would make every
# scan of an older month bind by name.
LISTING = f"{CATALOGUE_STATE}.fichiers_publies"
_OLD_LISTING = f"{CATALOGUE_STATE}.fichiers_instantanes"


def quality_root(store: Warehouse) -> Path:
    return store.root / "quality"


def snapshot_dir(store: Warehouse, month: str) -> Path:
    return quality_root(store) / month


def published_months(store: Warehouse) -> list[str]:
    root = quality_root(store)
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and MONTH.match(p.name))


def current_month(store: Warehouse) -> str | None:
    path = quality_root(store) / "CURRENT"
    if not path.exists():
        return None
    month = path.read_text(encoding="utf-8").strip()
    return month if MONTH.match(month) and snapshot_dir(store, month).exists() else None


def layout_problem(store: Warehouse, month: str) -> str | None:
    """Why a published snapshot cannot be read by this version (French), or None."""
    if not history.has_legacy_layout(snapshot_dir(store, month)):
        return None
    return (
        f"l'instantané {month} a le format d'une version antérieure (historique en un seul "
        f"fichier) : supprimez {quality_root(store)} puis relancez la consolidation depuis le "
        "premier mois (--through) ; les données brutes sont intactes"
    )


def temp_dir(store: Warehouse, month: str) -> Path:
    path = quality_root(store) / f".tmp-{month}-{os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def publish(store: Warehouse, month: str, tmp: Path) -> None:
    """Make the finished temporary folder the snapshot of ``month`` (one atomic step, see
    ``engine/publication.py``), then point CURRENT at it."""
    publication.publish_folder(tmp, snapshot_dir(store, month))
    current = quality_root(store) / "CURRENT"
    staged = current.with_name(".CURRENT.tmp")
    staged.write_text(month + "\n", encoding="utf-8")
    os.replace(staged, current)
    faults.point("publish.current")


def clean_leftovers(store: Warehouse) -> None:
    """Remove what a killed run may have left behind: temporary folders, versions of a
    snapshot no longer published; and link back a snapshot set aside just before a kill."""
    root = quality_root(store)
    if root.exists():
        publication.tidy(root)
        for path in root.iterdir():
            if path.name.startswith((".tmp-", ".old-")) and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def _views(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    folder: Path,
    tables: list[str],
    schemas: history.Schemas,
) -> None:
    for table in tables:
        sql = history.table_sql(folder, table, schemas)
        if sql is not None:
            con.execute(f"CREATE OR REPLACE VIEW {schema}.{table} AS {sql}")


def _listing(
    con: duckdb.DuckDBPyConnection, store: Warehouse, versions: dict[str, str]
) -> list[str]:
    """Keep in ``LISTING`` every file the catalogue reads of each published month (table, role,
    path, identity, columns), listed once per version of the month: a published version never
    changes, so a rebuild lists only the months published since the last one (reading the
    footers of the files they do not share with the month before), instead of every file of
    every month. Returns the months listed now."""
    con.execute(f"DROP TABLE IF EXISTS {_OLD_LISTING}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LISTING} (mois VARCHAR, version VARCHAR, tableau VARCHAR, "
        "role VARCHAR, fichier VARCHAR, identite VARCHAR, colonnes VARCHAR)"
    )
    published, params = texts_query({"mois": list(versions), "version": list(versions.values())})
    con.execute(f"CREATE OR REPLACE TEMP TABLE versions_publiees AS {published}", params)
    con.execute(
        f"DELETE FROM {LISTING} l WHERE NOT EXISTS (SELECT 1 FROM versions_publiees v "
        "WHERE v.mois = l.mois AND v.version = l.version)"
    )
    listed = {r[0] for r in con.execute(f"SELECT DISTINCT mois FROM {LISTING}").fetchall()}
    new = [m for m in sorted(versions) if m not in listed]
    if not new:
        return new
    known: dict[str, str] = dict(
        con.execute(
            f"SELECT identite, any_value(colonnes) FROM {LISTING} WHERE mois = "
            f"(SELECT max(mois) FROM {LISTING} WHERE mois < ?) GROUP BY identite",
            [new[0]],
        ).fetchall()
    )
    rows = []
    for month in new:
        for table, role, path in _month_files(snapshot_dir(store, month)):
            info = path.stat()
            identity = f"{info.st_dev}:{info.st_ino}"
            if identity not in known:
                known[identity] = json.dumps([list(c) for c in history.described([path])])
            rows.append((month, versions[month], table, role, str(path), identity, known[identity]))
    names = ("mois", "version", "tableau", "role", "fichier", "identite", "colonnes")
    query, params = texts_query({n: [r[i] for r in rows] for i, n in enumerate(names)})
    con.execute(f"INSERT INTO {LISTING} {query}", params)  # one insert, not one per row
    return new


def _month_files(folder: Path) -> list[tuple[str, str, Path]]:
    """(table, role, path) of every file of a snapshot the catalogue reads: each table's
    working file (``travail``), the months of the history tables (``mois``), the archive files
    and the list of withdrawn archived rows (``archive``, ``retraits``)."""
    files = []
    for table in TABLES:
        if table in history.PARTITIONED:
            parts = history.part_files(folder, table).values()
            files += [(table, "mois", p) for p in parts]
            continue
        working = folder / f"{table}.parquet"
        if not working.exists():
            continue
        files.append((table, "travail", working))
        if table in history.ARCHIVES:
            archived = history.part_files(folder, history.ARCHIVES[table]).values()
            files += [(table, "archive", p) for p in archived]
            withdrawn = history.withdrawn_file(folder, table)
            if withdrawn is not None and withdrawn.exists():
                files.append((table, "retraits", withdrawn))
    return files


def _kept_schemas(con: duckdb.DuckDBPyConnection, month: str) -> history.Schemas:
    """:data:`history.Schemas` of a listed month's files from ``LISTING`` (a file it does not
    list, from its footers)."""
    columns = {
        path: json.loads(listed)
        for path, listed in con.execute(
            f"SELECT fichier, colonnes FROM {LISTING} WHERE mois = ?", [month]
        ).fetchall()
    }

    def schemas(files: list[Path]) -> tuple[set[str], bool]:
        found = [columns[str(f)] for f in files if str(f) in columns]
        if len(found) < len(files):
            return history.footers(files)
        distinct = {json.dumps(c) for c in found}
        return {name for c in found for name, _ in c}, len(distinct) == 1

    return schemas


def _uniform(con: duckdb.DuckDBPyConnection, table: str, roles: tuple[str, ...]) -> bool:
    """Whether every listed file of ``table`` in ``roles`` has the same columns."""
    marks = ", ".join("?" for _ in roles)
    row = con.execute(
        f"SELECT count(DISTINCT colonnes) FROM {LISTING} WHERE tableau = ? AND role IN ({marks})",
        [table, *roles],
    ).fetchone()
    return row is not None and row[0] <= 1


def _archived_history(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``quality_historique.<table>`` of a table with an archive: each snapshot's rows as it
    publishes them (its working file, and its archived rows not withdrawn by its own list).
    Snapshots hard-link the files they share from one month to the next, so the view reads each
    distinct file (``LISTING``'s identity) once and joins it to the months that publish it
    (``_fichiers_<table>``: file, role, month). A union of every month's files made the
    binding grow with the square of the history (2.7 s of each run at month 72)."""
    name = f"quality_historique._fichiers_{table}"
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT first(fichier ORDER BY mois) OVER "
        "(PARTITION BY identite) AS fichier, role, mois AS mois_instantane "
        f"FROM {LISTING} WHERE tableau = '{table}' AND role IN ('travail', 'archive', 'retraits')"
    )
    listing: dict[str, list[Path]] = {}
    for path, role in con.execute(
        f"SELECT DISTINCT fichier, role FROM {name} ORDER BY fichier"
    ).fetchall():
        listing.setdefault(role, []).append(Path(path))
    if not listing:
        return

    def read(role: str) -> str:
        part = "" if role == "retraits" else f"{history.PART} AS partie, "  # a list names it
        uniform = _uniform(con, table, (role,))
        return (
            f"(SELECT x.*, {part}f.mois_instantane, f.role "
            f"FROM {history.scan(listing[role], uniform, filename=True)} x "
            f"JOIN {name} f ON f.fichier = x.filename AND f.role = '{role}')"
        )

    union = " UNION ALL BY NAME "
    rows = union.join(read(r) for r in ("travail", "archive") if r in listing)
    withdrawn_rows = (
        f"{read('retraits')} w WHERE w.mois_instantane = a.mois_instantane AND "
        f"{history.withdrawn_match(table, 'w', 'a')}"
        if "retraits" in listing
        else "(SELECT 1) w WHERE false"
    )
    con.execute(
        f"CREATE OR REPLACE VIEW quality_historique.{table} AS "
        f"SELECT * EXCLUDE (filename, partie, role) FROM ({rows}) a "
        f"WHERE a.role = 'travail' OR NOT EXISTS (SELECT 1 FROM {withdrawn_rows})"
    )


def _version(store: Warehouse, month: str) -> str:
    """The hidden version a published month's link names (see ``engine/publication.py``), and
    the times its folders last changed: a version is never modified, but a file replaced in it
    by hand (an older version's file, say) must not be read as the one the catalogue listed."""
    folder = snapshot_dir(store, month)
    try:
        name = os.readlink(folder)
    except OSError:  # a snapshot published before months were links: its time
        name = ""
    times = [folder.stat().st_mtime_ns]
    times += sorted(e.stat().st_mtime_ns for e in os.scandir(folder) if e.is_dir())
    return f"{name}@{'.'.join(map(str, times))}"


def catalog_hook(store: Warehouse, con: duckdb.DuckDBPyConnection) -> None:
    """Plain names for the current snapshot, ``quality_YYYY_MM.<table>`` for the last
    ``MONTH_SCHEMAS`` months, and ``quality_historique.<table>`` over every published month
    (column ``mois_instantane``; not for the history tables, whose current snapshot already
    holds every month), so the catalogue costs the same whatever the history: each month's
    files are listed once (``_listing``) and a scan of files all of the same columns binds on
    one footer."""
    months = published_months(store)
    versions = {m: _version(store, m) for m in months}
    _listing(con, store, versions)
    for month in months[-MONTH_SCHEMAS:]:
        schema = _month_schema(month)
        # a month's views read the version its link names: kept while it names the same one
        if not keep_schema(con, schema, versions[month]):
            _views(con, schema, snapshot_dir(store, month), list(TABLES), _kept_schemas(con, month))
    if months:
        con.execute("CREATE SCHEMA IF NOT EXISTS quality_historique")
        for table in TABLES:
            if table in history.PARTITIONED:
                continue
            if table in history.ARCHIVES:
                _archived_history(con, table)
                continue
            files = [
                Path(r[0])
                for r in con.execute(
                    f"SELECT fichier FROM {LISTING} WHERE tableau = ? AND role = 'travail' "
                    "ORDER BY mois",
                    [table],
                ).fetchall()
            ]
            if not files:
                continue
            con.execute(
                f"CREATE OR REPLACE VIEW quality_historique.{table} AS "
                "SELECT * EXCLUDE (filename), "
                r"regexp_extract(filename, 'quality[/\\](\d{4}-\d{2})[/\\]', 1) "
                "AS mois_instantane FROM "
                f"{history.scan(files, _uniform(con, table, ('travail',)), filename=True)}"
            )
    current = current_month(store)
    if current:
        public = [t for t in TABLES if t not in INTERNAL]
        _views(con, "main", snapshot_dir(store, current), public, _kept_schemas(con, current))


def _month_schema(month: str) -> str:
    return "quality_" + month.replace("-", "_")


register_catalog_hook(catalog_hook)
