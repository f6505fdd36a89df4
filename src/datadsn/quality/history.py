"""History tables: one Parquet file per month, never rewritten for a merge.

``declarations``, ``contrats_mois``, ``activites_sources`` and ``activites`` grow by a month of
rows at every run. Rewriting them whole each month made the run cost grow with the history (the
reference's weakness), so a snapshot stores them as ``<table>/<YYYY-MM>.parquet``: a run writes
only the months its declarations concern and hard-links the others from the previous snapshot.

Merges would touch every month of a merged contract, so stored rows keep the contract id they
were written with, and readers resolve it through ``fusions`` (always pointing at a live id):
:func:`table_sql` is the one definition of what a snapshot publishes. Only the rows of an
absorbed id need work when read (re-keyed, then combined with the survivor's rows of the same
key), so reading costs a scan, not a sort of the whole history.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from datadsn.engine.backends import Backend
from datadsn.engine.database import read_cursor
from datadsn.engine.runner import quote_path

from .schema import TABLES, select_list

# table -> the month column that names its files
PARTITIONED: dict[str, str] = {
    "declarations": "mois",
    "contrats_mois": "mois",
    "activites_sources": "mois_declaration",
    "activites": "mois",
}

# table -> folder of its archived rows, published together (see quality/archive.py and
# quality/salaries_archive.py)
ARCHIVES: dict[str, str] = {"contrats": "contrats_archives", "salaries": "salaries_archives"}
# table -> file listing the archived rows withdrawn since they were archived, and the columns
# naming such a row: for employees, the id and the date of last declaration (whose month names
# the row's file); for contracts, the file (``PART``) and the id (see quality/archive.py).
WITHDRAWN: dict[str, tuple[str, tuple[str, ...]]] = {
    "salaries": ("salaries_retraits", ("salarie_id", "date_derniere_declaration")),
    "contrats": ("contrats_retraits", ("partie", "contrat_id")),
}
# ``partie``, the name (without .parquet) of the archive file a row read with ``filename = true``
# comes from: ``<YYYY-MM>`` or ``<YYYY-MM>+<run month>`` (quality/archive.py).
PART = r"regexp_extract(filename, '([^/\\]+)\.parquet$', 1)"

# The columns found in any of some files, and whether every one of them has the same columns
# and types (a scan of them then needs no union by name, whose binding reads every file's
# footer). :func:`footers` reads them; the catalogue passes its kept listing instead.
Schemas = Callable[[list[Path]], tuple[set[str], bool]]

_HOURS = ("heures_standards_remunerees", "heures_non_remunerees", "heures_supp_remunerees")
_SUMS = ", ".join(f"sum({h}) AS {h}" for h in _HOURS)
# table -> (key after resolution, how the rows of one key are combined)
_COMBINE: dict[str, tuple[tuple[str, ...], str]] = {
    "contrats_mois": (
        ("contrat_id", "mois"),
        "QUALIFY row_number() OVER (PARTITION BY contrat_id, mois "
        "ORDER BY version_declaration DESC, decl_key) = 1",
    ),
    "activites_sources": (
        ("decl_key", "contrat_id", "mois"),
        "GROUP BY decl_key, contrat_id, mois",
    ),
    "activites": (("contrat_id", "mois"), "GROUP BY contrat_id, mois"),
}
_AGGREGATES = {
    "activites_sources": f"decl_key, contrat_id, mois, {_SUMS}, "
    "max(mois_declaration) AS mois_declaration",
    "activites": f"contrat_id, mois, {_SUMS}, "
    "max(date_derniere_declaration) AS date_derniere_declaration",
}


quote = quote_path


def months(db: Backend, sql: str) -> list[str]:
    """The distinct non-empty month labels a query returns, sorted."""
    return sorted({r[0] for r in db.rows(sql) if r[0]})


def part_files(folder: Path, table: str) -> dict[str, Path]:
    """Month -> file of a partitioned table in a snapshot folder (names sorted as strings: the
    catalogue lists every month's folders, and sorting paths cost more than listing them)."""
    directory = folder / table
    try:
        names = sorted(
            e.name
            for e in os.scandir(directory)
            if e.name.endswith(".parquet") and not e.name.startswith(".")
        )
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return {name[: -len(".parquet")]: directory / name for name in names}


def empty_sql(table: str) -> str:
    cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in TABLES[table].items())
    return f"SELECT {cols} WHERE false"


def files_sql(table: str, files: list[Path], schemas: Schemas | None = None) -> str:
    """Rows of some month files as stored (typed and empty if there are none). Columns are
    matched by name: a column added after some files were written reads as NULL in them."""
    if not files:
        return empty_sql(table)
    present, uniform = (schemas or footers)(files)
    return f"SELECT {select_list(table, present)} FROM {scan(files, uniform)}"


def scan(files: list[Path], uniform: bool, filename: bool = False) -> str:
    """``read_parquet`` of ``files``, by column name unless they all have the same columns."""
    listed = ", ".join(quote(f) for f in files)
    options = ("" if uniform else ", union_by_name = true") + (", filename = true" * filename)
    return f"read_parquet([{listed}]{options})"


def described(files: list[Path]) -> list[tuple[str, str]]:
    """The name and type of each column of ``files`` (their footers only, by column name), as
    DuckDB binds them: pyarrow or polars for this cost a fresh command their import, 0.2 to
    0.3 CPU-s."""
    cursor = read_cursor()
    try:
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {scan(files, False)}").fetchall()
    finally:
        cursor.close()
    return [(str(r[0]), str(r[1])) for r in rows]


def present_columns(files: list[Path]) -> set[str]:
    """The columns found in any of ``files``."""
    return {name for name, _ in described(files)} if files else set()


def footers(files: list[Path]) -> tuple[set[str], bool]:
    """:data:`Schemas` from the files' footers (not compared: scanned by column name)."""
    return present_columns(files), False


def stored_sql(
    folder: Path | None,
    table: str,
    months: list[str] | None = None,
    schemas: Schemas | None = None,
) -> str:
    """Rows as stored (ids not resolved), of some months or of all."""
    files = part_files(folder, table) if folder else {}
    chosen = list(files) if months is None else [m for m in months if m in files]
    return files_sql(table, [files[m] for m in chosen], schemas)


def _resolution(table: str, stored: str, fusions: str, columns: str) -> tuple[str, str]:
    """``WITH`` clause defining ``r`` (stored rows, absorbed ids replaced, flag ``repris``) and
    ``k`` (keys holding a replaced id), and the join condition on ``k``."""
    key = _COMBINE[table][0]
    on = " AND ".join(f"k.{c} = r.{c}" for c in key)
    return (
        f"WITH r AS (SELECT coalesce(f.id_survivant, s.contrat_id) AS contrat_id, {columns}, "
        f"f.id_survivant IS NOT NULL AS repris FROM ({stored}) s "
        f"LEFT JOIN (SELECT id_absorbe, id_survivant FROM ({fusions}) WHERE entite = 'contrat') "
        f"f ON f.id_absorbe = s.contrat_id), "
        f"k AS (SELECT DISTINCT {', '.join(key)} FROM r WHERE repris) "
    ), on


def resolved_sql(table: str, stored: str, fusions: str) -> str:
    """A published history table from its stored rows: absorbed contract ids replaced by their
    survivor, then the rows that now share a key combined as a run would have kept them."""
    if table not in _COMBINE:
        return stored
    cols = ", ".join(TABLES[table])
    rest = ", ".join(f"s.{c}" for c in TABLES[table] if c != "contrat_id")
    with_clause, on = _resolution(table, stored, fusions, rest)
    return (
        f"{with_clause}SELECT {cols} FROM r WHERE NOT EXISTS (SELECT 1 FROM k WHERE {on}) "
        f"UNION ALL SELECT {_AGGREGATES.get(table, cols)} FROM r "
        f"WHERE EXISTS (SELECT 1 FROM k WHERE {on}) {_COMBINE[table][1]}"
    )


def resolved_count_sql(table: str, stored: str, fusions: str) -> str:
    """``count(*) AS lignes`` of :func:`resolved_sql`: the stored rows, less those whose key
    holds a replaced id, plus one per such key. Only rows of an absorbed or surviving contract
    can hold such a key, so only they are resolved and the rest is merely counted (joining the
    whole history with the fusions took 0.108 s of one thread at month 72 of 20,000 employees,
    this 0.085 s)."""
    if table not in _COMBINE:
        return f"SELECT count(*) AS lignes FROM ({stored})"
    key = _COMBINE[table][0]
    rest = ", ".join(f"s.{c}" for c in key if c != "contrat_id")
    ids = (
        f"SELECT id_absorbe FROM ({fusions}) WHERE entite = 'contrat' "
        f"UNION ALL SELECT id_survivant FROM ({fusions}) WHERE entite = 'contrat'"
    )
    touched = f"SELECT * FROM ({stored}) t WHERE t.contrat_id IN ({ids})"
    with_clause, on = _resolution(table, touched, fusions, rest)
    return (
        f"{with_clause}SELECT (SELECT count(*) FROM ({stored})) "
        f"- (SELECT count(*) FROM r JOIN k ON {on}) + (SELECT count(*) FROM k) AS lignes"
    )


def has_legacy_layout(folder: Path) -> bool:
    """A snapshot written before history tables were split by month: readable (see
    :func:`table_sql`), but a run cannot carry its months over."""
    return any((folder / f"{table}.parquet").exists() for table in PARTITIONED)


def table_sql(folder: Path, table: str, schemas: Schemas | None = None) -> str | None:
    """The published content of any table of a snapshot folder (None if it has no such table);
    ``schemas``: where the files' columns come from (default: their footers)."""
    schemas = schemas or footers
    if table in PARTITIONED:
        if not (folder / table).is_dir():
            # a snapshot of an older version: its single file is still readable as it is
            legacy = folder / f"{table}.parquet"
            return f"SELECT * FROM read_parquet({quote(legacy)})" if legacy.exists() else None
        fusions = folder / "fusions.parquet"
        fus = f"SELECT * FROM read_parquet({quote(fusions)})" if fusions.exists() else None
        stored = stored_sql(folder, table, schemas=schemas)
        return resolved_sql(table, stored, fus or empty_sql("fusions"))
    path = folder / f"{table}.parquet"
    if not path.exists():
        return None
    sql = f"SELECT * FROM read_parquet({quote(path)})"
    archived = list(part_files(folder, ARCHIVES[table]).values()) if table in ARCHIVES else []
    if not archived:
        return sql
    # Rows moved out of the working file, matched by column name in case one file is older:
    # each side in the declared columns (UNION ALL BY NAME has no Spark SQL equivalent).
    present, uniform = schemas(archived)
    return (
        f"SELECT {select_list(table, schemas([path])[0])} FROM ({sql}) AS w UNION ALL "
        f"SELECT {select_list(table, present)} FROM "
        f"({archived_sql(folder, table, archived, uniform)}) AS r"
    )


def withdrawn_file(folder: Path, table: str) -> Path | None:
    """The list of withdrawn archived rows of a snapshot, if the table keeps one."""
    return folder / f"{WITHDRAWN[table][0]}.parquet" if table in WITHDRAWN else None


def archived_sql(folder: Path, table: str, files: list[Path], uniform: bool = False) -> str:
    """The archived rows of ``files`` still valid: those not withdrawn (see WITHDRAWN). Columns
    are matched by name (unless ``uniform``: every file has the same ones): a column added
    after some files were written reads as NULL in them."""
    withdrawn = withdrawn_file(folder, table)
    if withdrawn is None or not withdrawn.exists():
        return f"SELECT * FROM {scan(files, uniform)} a"
    if "partie" in WITHDRAWN[table][1]:  # withdrawn by file: each row says which it is in
        source = (
            f"(SELECT * EXCLUDE (filename), {PART} AS partie "
            f"FROM {scan(files, uniform, filename=True)})"
        )
        columns = "* EXCLUDE (partie)"
    else:
        source, columns = scan(files, uniform), "*"
    return (
        f"SELECT {columns} FROM {source} a WHERE NOT EXISTS (SELECT 1 FROM "
        f"read_parquet({quote(withdrawn)}) w WHERE {withdrawn_match(table, 'w', 'a')})"
    )


def withdrawn_match(table: str, listed: str, row: str) -> str:
    """The condition that the withdrawn entry ``listed`` names the archived row ``row``."""
    return " AND ".join(f"{listed}.{c} = {row}.{c}" for c in WITHDRAWN[table][1])


def link_or_copy(source: Path, target: Path) -> None:
    """Share an unchanged month file with the previous snapshot (files are never modified)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not supported
        shutil.copy2(source, target)
