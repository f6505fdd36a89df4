"""Settled contracts are archived out of the working set, by month of last declaration.

Contracts accumulate (72 months of ends), and ranking them all every month made the run cost
grow with the history. A contract whose end can no longer change by itself (declared end, or
inferred end once its establishment has declared three months past it; not a temporary-work
contract whose user establishment is unknown) moves, with its temporary-work copy if any, to
the archive files of the month of its last declaration (so the 72-month retention drops whole
files). Later runs carry these files over by hard link and bring back only the contracts their
declarations may change (``int_contrats_a_reprendre``, then :func:`bring_back`). The published
``contrats`` is the working file plus the archive (see ``history.table_sql``).

A month's archive is ``contrats_archives/<YYYY-MM>.parquet``, plus ``<YYYY-MM>+<run
month>.parquet`` for the rows a later run settles into it. A contract brought back is not
removed from its file but withdrawn: ``contrats_retraits.parquet`` lists the rows readers skip
(file, id). Rewriting the month files that lose or receive a few rows (a dozen for 60,000, and
most months each run) made the publication grow with the history; once a month has
``MAX_PARTS`` files, the run that adds one writes that month again as one file instead, without
its withdrawn rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from datadsn.engine.backends import Backend

from . import history
from .inputs import retention_cutoff
from .schema import KEYS, TABLES, select_list

TABLE = "contrats"
FOLDER = history.ARCHIVES[TABLE]
WITHDRAWN_NAME = history.WITHDRAWN[TABLE][0]
WITHDRAWN_COLUMNS = {"partie": "VARCHAR", "contrat_id": "VARCHAR"}
MAX_PARTS = 4  # files of one archive month before it is written again as one


def carried(folder: Path | None, month: str, table: str = "contrats") -> dict[str, Path]:
    """Archive files of ``table`` in the previous snapshot still within the retention, by
    name (the month of a file is the first 7 characters of its name)."""
    if folder is None:
        return {}
    cutoff = retention_cutoff(month)
    parts = history.part_files(folder, history.ARCHIVES[table])
    return {m: p for m, p in parts.items() if m[:7] >= cutoff}


def load(db: Backend, folder: Path | None, files: dict[str, Path]) -> None:
    """``prev_contrats_retraits`` (the withdrawn rows of ``files``: file, id) and
    ``prev_contrats_archives`` (the archived contracts not withdrawn, scanned in place)."""
    withdrawn = history.withdrawn_file(folder, TABLE) if folder else None
    if files and withdrawn is not None and withdrawn.exists():
        db.create(
            "prev_contrats_retraits",
            "SELECT CAST(partie AS VARCHAR) AS partie, CAST(contrat_id AS VARCHAR) AS contrat_id "
            f"FROM read_parquet({history.quote(withdrawn)}) WHERE partie IN ({_names(files)})",
        )
    else:
        db.create_empty("prev_contrats_retraits", WITHDRAWN_COLUMNS)
    if files:
        db.create(
            "prev_contrats_archives",
            f"SELECT {select_list(TABLE)} FROM ({valid_rows(db, files, parts=False)}) a",
            kind="view",
        )
    else:
        db.create_empty("prev_contrats_archives", TABLES[TABLE])


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"'{m}'" for m in names) or "NULL"


def valid_rows(db: Backend, files: dict[str, Path], parts: bool) -> str:
    """The rows of archive ``files`` not withdrawn (``prev_contrats_retraits``), with, if
    ``parts``, the file each is in (``partie``, from the scan's ``filename`` column, which
    every backend gives). One scan for the files without withdrawn rows, one for the others:
    a scan per file cost the load 0.3 s at month 24. An archive file outlives the version that
    wrote it: the files are scanned by column name and a column none of them has reads as NULL,
    as in the employees' archive, instead of failing the run (the columns come from the
    engine's binding of the scan, which costs the load of month 72 of 20,000 employees about
    0.02 s for its 171 files)."""
    touched = {r[0] for r in db.rows("SELECT DISTINCT partie FROM prev_contrats_retraits")}
    queries = []
    for dirty in (False, True):
        chosen = [p for name, p in files.items() if (name in touched) == dirty]
        if not chosen:
            continue
        scan = history.scan(chosen, uniform=False)
        cols = select_list(TABLE, set(db.columns(f"SELECT * FROM {scan}")))
        if not (dirty or parts):
            queries.append(f"SELECT {cols} FROM {scan}")
            continue
        columns = ", ".join(f"a.{c}" for c in TABLES[TABLE]) + (", a.partie" if parts else "")
        query = (
            f"SELECT {columns} FROM (SELECT {cols}, {history.PART} AS partie "
            f"FROM {history.scan(chosen, uniform=False, filename=True)}) a"
        )
        if dirty:  # a join, not a NOT EXISTS, which DuckDB plans as a delim join
            query += (
                " LEFT JOIN prev_contrats_retraits w "
                "ON w.partie = a.partie AND w.contrat_id = a.contrat_id WHERE w.contrat_id IS NULL"
            )
        queries.append(query)
    return " UNION ALL ".join(queries)


def bring_back(db: Backend, files: dict[str, Path]) -> int:
    """``int_contrats_reactives``: the whole rows of the contracts ``int_contrats_a_reprendre``
    names and of their temporary-work copies (a copy is archived with its agency contract, in
    the same month file: ``contrats_reglees``), read from their months' files only (a scan of
    every file for two contracts took 0.025 s of the critical path at month 24, one file
    0.002 s), and ``int_contrats_reactives_parties``: the file each came from; returns the
    rows."""
    months = history.months(db, "SELECT DISTINCT mois_archive FROM int_contrats_a_reprendre")
    chosen = {m: p for m, p in files.items() if m[:7] in months}
    if not chosen:
        db.create_empty("int_contrats_reactives", TABLES[TABLE])
        db.create_empty("int_contrats_reactives_parties", WITHDRAWN_COLUMNS)
        return 0
    db.create(
        "int_contrats_reactives_parties",
        f"SELECT * FROM ({valid_rows(db, chosen, parts=True)}) p "
        "WHERE contrat_id IN (SELECT contrat_id FROM int_contrats_a_reprendre) "
        "OR ett_contrat_id IN (SELECT contrat_id FROM int_contrats_a_reprendre)",
    )
    db.create(
        "int_contrats_reactives",
        f"SELECT {select_list(TABLE)} FROM int_contrats_reactives_parties",
    )
    rows = db.rows("SELECT count(*) FROM int_contrats_reactives")
    return int(rows[0][0]) if rows else 0


def publish(db: Backend, tmp: Path, files: dict[str, Path], month: str) -> None:
    """Write the working ``contrats.parquet``, the rows settled this run (a file per month
    receiving some, or the month written again once it has ``MAX_PARTS`` files), and the list
    of withdrawn rows; link every other archive file (the settled contracts:
    ``sql/publication/contrats_reglees.sql``)."""
    cols = select_list(TABLE)
    db.write_parquet(
        f"SELECT {cols} FROM contrats c WHERE NOT EXISTS "
        "(SELECT 1 FROM contrats_reglees r WHERE r.contrat_id = c.contrat_id)",
        tmp / f"{TABLE}.parquet",
        order_by=KEYS[TABLE],
    )
    # withdrawn rows: those listed before, and those brought back by this run
    db.create(
        "contrats_retraits_tous",
        "SELECT partie, contrat_id FROM prev_contrats_retraits "
        "UNION SELECT partie, contrat_id FROM int_contrats_reactives_parties",
    )
    receiving = history.months(db, "SELECT DISTINCT mois_archive FROM contrats_reglees")
    rewritten: set[str] = set()
    for m in receiving:
        parts = {name: path for name, path in files.items() if name[:7] == m}
        settled = (
            f"SELECT {cols} FROM contrats c JOIN contrats_reglees r USING (contrat_id) "
            f"WHERE r.mois_archive = '{m}'"
        )
        if not parts:
            db.write_parquet(settled, tmp / FOLDER / f"{m}.parquet", order_by=KEYS[TABLE])
        elif len(parts) + 1 < MAX_PARTS:
            db.write_parquet(settled, tmp / FOLDER / f"{m}+{month}.parquet", order_by=KEYS[TABLE])
        else:
            kept = " UNION ALL ".join(
                f"SELECT * FROM ({history.files_sql(TABLE, [path])}) k WHERE contrat_id NOT IN "
                f"(SELECT contrat_id FROM contrats_retraits_tous WHERE partie = '{name}')"
                for name, path in parts.items()
            )
            db.write_parquet(
                f"{kept} UNION ALL {settled}", tmp / FOLDER / f"{m}.parquet", order_by=KEYS[TABLE]
            )
            rewritten.update(parts)
    for name, path in files.items():
        if name not in rewritten:
            history.link_or_copy(path, tmp / FOLDER / f"{name}.parquet")
    (tmp / FOLDER).mkdir(exist_ok=True)
    linked = {name for name in files if name not in rewritten}
    db.write_parquet(
        f"SELECT partie, contrat_id FROM contrats_retraits_tous WHERE partie IN ({_names(linked)})",
        tmp / f"{WITHDRAWN_NAME}.parquet",
        order_by="partie, contrat_id",
    )
