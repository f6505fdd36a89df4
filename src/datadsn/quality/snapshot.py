"""Quality snapshots on disk: ``quality/<YYYY-MM>/<table>.parquet`` and ``quality/CURRENT``.

A run writes into a hidden temporary folder, then publishes it by one atomic step (each month's
name is a link to a hidden version, replaced in one rename: ``engine/publication.py``); CURRENT
is replaced atomically last. A kill at any point leaves every published snapshot readable and
CURRENT naming one; the next run removes what was left.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from datadsn.engine import faults, publication
from datadsn.engine.warehouse import Warehouse, keep_schema, register_catalog_hook

from . import history
from .schema import INTERNAL, TABLES

MONTH = re.compile(r"^\d{4}-\d{2}$")
MONTH_SCHEMAS = 12  # past months with their own schema; older ones via quality_historique


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
    con: duckdb.DuckDBPyConnection, schema: str | None, folder: Path, tables: list[str]
) -> None:
    for table in tables:
        sql = history.table_sql(folder, table)
        if sql is None:
            continue
        name = f"{schema}.{table}" if schema else table
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")


def _archived_history(
    con: duckdb.DuckDBPyConnection, store: Warehouse, months: list[str], table: str
) -> None:
    """``quality_historique.<table>`` of a table with an archive: each snapshot's rows as it
    publishes them (its working file, and its archived rows not withdrawn by its own list).
    Snapshots hard-link the files they share from one month to the next, so each distinct file
    is published by a run of consecutive months: the view reads each file once and joins it to
    its run (``_fichiers_<table>``: file, role, first and last month). A union of every month's
    files made the binding, and listing the pairs of months and files the catalogue, grow with
    the square of the history (2.7 s of each run at month 72)."""
    position = {m: i for i, m in enumerate(months)}
    files: dict[tuple[int, int], list] = {}  # inode -> [path, role, [(first, last)]]
    for month in months:
        folder = snapshot_dir(store, month)
        working = folder / f"{table}.parquet"
        if not working.exists():
            continue
        archived = history.part_files(folder, history.ARCHIVES[table]).values()
        roles = [(working, "travail"), *((p, "archive") for p in archived)]
        withdrawn = history.withdrawn_file(folder, table)
        if withdrawn is not None and withdrawn.exists():
            roles.append((withdrawn, "retraits"))
        for path, role in roles:
            info = path.stat()
            entry = files.setdefault((info.st_dev, info.st_ino), [path, role, []])
            runs = entry[2]
            if runs and position[runs[-1][1]] == position[month] - 1:
                runs[-1] = (runs[-1][0], month)
            else:
                runs.append((month, month))
    if not files:
        return
    listing = [(history.quote(p), role, runs) for p, role, runs in files.values()]
    name = f"quality_historique._fichiers_{table}"
    values = ", ".join(
        f"({path}, '{role}', '{first}', '{last}')"
        for path, role, runs in listing
        for first, last in runs
    )
    published = ", ".join(f"('{m}')" for m in months)
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT f.fichier, f.role, m.mois_instantane "
        f"FROM (VALUES {values}) AS f(fichier, role, premier, dernier) "
        f"JOIN (VALUES {published}) AS m(mois_instantane) "
        "ON m.mois_instantane BETWEEN f.premier AND f.dernier"
    )

    def read(role: str) -> str:
        listed = ", ".join(path for path, r, _ in listing if r == role)
        part = "" if role == "retraits" else f"{history.PART} AS partie, "  # a list names it
        return (
            f"(SELECT x.*, {part}f.mois_instantane, f.role "
            f"FROM read_parquet([{listed}], filename = true, union_by_name = true) x "
            f"JOIN {name} f ON f.fichier = x.filename AND f.role = '{role}')"
        )

    present = {role for _, role, _ in listing}
    rows = " UNION ALL BY NAME ".join(read(r) for r in ("travail", "archive") if r in present)
    withdrawn_rows = (
        f"{read('retraits')} w WHERE w.mois_instantane = a.mois_instantane AND "
        f"{history.withdrawn_match(table, 'w', 'a')}"
        if "retraits" in present
        else "(SELECT 1) w WHERE false"
    )
    con.execute(
        f"CREATE OR REPLACE VIEW quality_historique.{table} AS "
        f"SELECT * EXCLUDE (filename, partie, role) FROM ({rows}) a "
        f"WHERE a.role = 'travail' OR NOT EXISTS (SELECT 1 FROM {withdrawn_rows})"
    )


def _version(store: Warehouse, month: str) -> str:
    """The hidden version a published month's link names (see ``engine/publication.py``)."""
    folder = snapshot_dir(store, month)
    try:
        return os.readlink(folder)
    except OSError:  # a snapshot published before months were links: its time
        return str(folder.stat().st_mtime_ns)


def catalog_hook(store: Warehouse, con: duckdb.DuckDBPyConnection) -> None:
    """Plain names for the current snapshot, ``quality_YYYY_MM.<table>`` for the last
    ``MONTH_SCHEMAS`` months, and ``quality_historique.<table>`` over every published month
    (column ``mois_instantane``; not for the history tables, whose current snapshot already
    holds every month), so the catalogue costs the same whatever the history."""
    months = published_months(store)
    for month in months[-MONTH_SCHEMAS:]:
        schema = "quality_" + month.replace("-", "_")
        # a month's views read the version its link names: kept while it names the same one
        if not keep_schema(con, schema, _version(store, month)):
            _views(con, schema, snapshot_dir(store, month), list(TABLES))
    if months:
        con.execute("CREATE SCHEMA IF NOT EXISTS quality_historique")
        for table in TABLES:
            if table in history.PARTITIONED:
                continue
            if table in history.ARCHIVES:
                _archived_history(con, store, months, table)
                continue
            files = [snapshot_dir(store, m) / f"{table}.parquet" for m in months]
            listed = ", ".join(history.quote(f) for f in files if f.exists())
            if not listed:
                continue
            con.execute(
                f"CREATE OR REPLACE VIEW quality_historique.{table} AS "
                "SELECT * EXCLUDE (filename), "
                r"regexp_extract(filename, 'quality[/\\](\d{4}-\d{2})[/\\]', 1) "
                f"AS mois_instantane FROM read_parquet([{listed}], filename = true, "
                "union_by_name = true)"
            )
    current = current_month(store)
    if current:
        public = [t for t in TABLES if t not in INTERNAL]
        _views(con, None, snapshot_dir(store, current), public)


register_catalog_hook(catalog_hook)
