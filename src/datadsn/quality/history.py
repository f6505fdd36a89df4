"""History tables: one Parquet file per month, never rewritten for a merge.

``contrats_mois``, ``activites_sources`` and ``declarations`` grow by a month of rows at every
run. Rewriting them
whole each month made the run cost grow with the history (the reference's weakness), so a
snapshot stores them as ``<table>/<YYYY-MM>.parquet``: a run writes only the months its
declarations concern and hard-links the others from the previous snapshot.

Merges would touch every month of a merged contract, so stored rows keep the contract id they
were written with, and readers resolve it through ``fusions`` (always pointing at a live id):
:func:`resolved_sql` is the one definition of the published tables ``contrats_mois``,
``activites_sources`` and ``activites`` (contract x calendar month, summed from the sources).
"""

from __future__ import annotations

import os
from pathlib import Path

from .schema import TABLES

# table -> the month column that names its files
PARTITIONED: dict[str, str] = {
    "activites_sources": "mois_declaration",
    "contrats_mois": "mois",
    "declarations": "mois",
}
# published tables computed from a partitioned one when read
DERIVED: dict[str, str] = {"activites": "activites_sources"}

# table -> folder of its archived rows, published together (see quality/archive.py)
ARCHIVES: dict[str, str] = {"contrats": "contrats_archives"}

_HOURS = ("heures_standards_remunerees", "heures_non_remunerees", "heures_supp_remunerees")


def quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def part_files(folder: Path, table: str) -> dict[str, Path]:
    """Month -> file of a partitioned table in a snapshot folder."""
    directory = folder / table
    if not directory.is_dir():
        return {}
    return {p.stem: p for p in sorted(directory.glob("*.parquet"))}


def legacy_file(folder: Path, table: str) -> Path | None:
    """The single file of a snapshot written before partitioning (read, then split)."""
    path = folder / f"{table}.parquet"
    return path if path.exists() else None


def stored_sql(folder: Path | None, table: str, months: list[str] | None = None) -> str:
    """Rows as stored (ids not resolved), of some months or all (typed and empty if none)."""
    if folder is None:
        return empty_sql(table)
    files = part_files(folder, table)
    chosen = [files[m] for m in (months if months is not None else list(files)) if m in files]
    sources = [f"read_parquet([{', '.join(quote(f) for f in chosen)}])"] if chosen else []
    legacy = legacy_file(folder, table)
    if legacy:
        where = ""
        if months is not None:
            listed = ", ".join(f"'{m}'" for m in months) or "NULL"
            where = f" WHERE strftime({PARTITIONED[table]}, '%Y-%m') IN ({listed})"
        sources.append(f"read_parquet({quote(legacy)}){where}")
    if not sources:
        return empty_sql(table)
    cols = ", ".join(TABLES[table])
    return " UNION ALL ".join(f"SELECT {cols} FROM {s}" for s in sources)


def empty_sql(table: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in TABLES[table].items())
    return f"SELECT {cols} WHERE false"


def table_sql(folder: Path, table: str) -> str | None:
    """The published content of any table of a snapshot folder (None if it has no such table)."""
    base = DERIVED.get(table, table)
    if base in PARTITIONED:
        if not (folder / base).is_dir() and not legacy_file(folder, base):
            return None
        fusions = folder / "fusions.parquet"
        source = f"read_parquet({quote(fusions)})" if fusions.exists() else None
        fus = f"SELECT * FROM {source}" if source else empty_sql("fusions")
        return resolved_sql(table, stored_sql(folder, base), fus)
    path = folder / f"{table}.parquet"
    if not path.exists():
        return None
    sql = f"SELECT * FROM read_parquet({quote(path)})"
    archived = part_files(folder, ARCHIVES[table]) if table in ARCHIVES else {}
    if archived:  # settled contracts (see quality/archive.py), same columns
        listed = ", ".join(quote(p) for p in archived.values())
        sql += f" UNION ALL SELECT * FROM read_parquet([{listed}])"
    return sql


def stored_months(folder: Path, table: str) -> list[str]:
    """Months present on disk; a legacy single file counts as every month it holds."""
    months = set(part_files(folder, table))
    legacy = legacy_file(folder, table)
    if legacy:
        import duckdb

        column = PARTITIONED[table]
        with duckdb.connect() as con:
            rows = con.execute(
                f"SELECT DISTINCT strftime({column}, '%Y-%m') FROM read_parquet({quote(legacy)})"
            ).fetchall()
        months |= {r[0] for r in rows if r[0]}
    return sorted(months)


def resolved_sql(table: str, stored: str, fusions: str) -> str:
    """A published history table from its stored rows: ids resolved through ``fusions``, then
    one row per key as a run would have kept it."""
    base = DERIVED.get(table, table)
    if "contrat_id" not in TABLES[base]:
        return stored
    resolved = (
        f"SELECT coalesce(f.id_survivant, s.contrat_id) AS contrat_id, s.* EXCLUDE (contrat_id) "
        f"FROM ({stored}) s LEFT JOIN (SELECT id_absorbe, id_survivant FROM ({fusions}) "
        "WHERE entite = 'contrat') f ON f.id_absorbe = s.contrat_id"
    )
    sums = ", ".join(f"sum({h}) AS {h}" for h in _HOURS)
    if table == "contrats_mois":
        cols = ", ".join(TABLES[table])
        return (
            f"SELECT {cols} FROM ({resolved}) QUALIFY row_number() OVER (PARTITION BY "
            "contrat_id, mois ORDER BY version_declaration DESC, decl_key) = 1"
        )
    if table == "activites_sources":
        return (
            f"SELECT decl_key, contrat_id, mois, {sums}, max(mois_declaration) AS "
            f"mois_declaration FROM ({resolved}) GROUP BY decl_key, contrat_id, mois"
        )
    if base == "activites_sources":
        return (
            f"SELECT contrat_id, mois, {sums}, max(mois_declaration) AS "
            f"date_derniere_declaration FROM ({resolved}) GROUP BY contrat_id, mois"
        )
    raise KeyError(table)


def link_or_copy(source: Path, target: Path) -> None:
    """Share an unchanged month file with the previous snapshot (files are never modified)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not supported
        import shutil

        shutil.copy2(source, target)
