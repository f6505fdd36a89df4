"""Employees not declared in the run's month leave the working set for an archive.

Every employee of the last 72 months used to flow through each run and be written again:
63,000 rows at month 24 of the benchmark, for 23,000 declared that month. A snapshot now keeps in
``salaries.parquet`` the employees declared in its month, with the temporary workers' copies
(rebuilt by every run), and moves the others to ``salaries_archives/<YYYY-MM>.parquet``, by month
of last declaration (the 72-month retention drops whole files). The next runs link these files
and load them once (``prev_salaries_archives``): an archived employee enters the run's steps only
when declared again under its key (``int_salaries_rappeles``) or as a member of a merge; every
other step reads the archived rows as they are (``int_salaries_connus``, ``int_salaries_tous``).

An archived row that comes back is not deleted from its file: people coming back are spread over
many months, and rewriting their files cost more than it saved (the contract archive,
``archive.py``, does rewrite: a contract comes back rarely). It is withdrawn instead:
``salaries_retraits.parquet`` lists the rows readers skip (id and date of last declaration)
(``history.archived_sql``). A month file written again, because employees join it, leaves out
its withdrawn rows, and their pairs leave the list.
"""

from __future__ import annotations

from pathlib import Path

from datadsn.engine.backends import Backend

from . import history
from .schema import KEYS, TABLES, select_list

TABLE = "salaries"
LOADED = "prev_salaries_archives"
FOLDER = history.ARCHIVES[TABLE]
WITHDRAWN_NAME = history.WITHDRAWN[TABLE][0]
# the month file of an archived row: the month of its last declaration
MONTH = "strftime(date_derniere_declaration, '%Y-%m')"
# orders the temporary workers' copies after the employees (a copy's flag is true, an employee's
# NULL); no comma, as the Spark backend splits ``order_by`` on commas
COPY_LAST = "allocated_from_ett IS NOT NULL"


def load(db: Backend, folder: Path | None, files: dict[str, Path]) -> None:
    """``prev_salaries_archives`` (the archived employees still valid) and
    ``prev_salaries_retraits`` (the withdrawn rows of these files: id, date of last
    declaration)."""
    withdrawn = history.withdrawn_file(folder, TABLE) if folder is not None else None
    listed_withdrawn = bool(withdrawn is not None and withdrawn.exists() and files)
    if withdrawn is not None and listed_withdrawn:
        months = ", ".join(f"'{m}'" for m in files)
        db.create(
            "prev_salaries_retraits",
            "SELECT salarie_id, date_derniere_declaration "
            f"FROM read_parquet({history.quote(withdrawn)}) WHERE {MONTH} IN ({months})",
        )
    else:
        db.create_empty(
            "prev_salaries_retraits", {"salarie_id": "VARCHAR", "date_derniere_declaration": "DATE"}
        )
    if folder is None or not files:
        db.create_empty(LOADED, TABLES[TABLE])
        return
    db.create(LOADED, history.files_sql(TABLE, list(files.values())))
    if not listed_withdrawn:
        return
    # deleting the few withdrawn rows after loading took half the time of an anti-join in the
    # load (DuckDB decorrelates it through every archived id)
    db.delete(
        LOADED,
        "a",
        "EXISTS (SELECT 1 FROM prev_salaries_retraits w WHERE "
        f"{history.withdrawn_match(TABLE, 'w', 'a')})",
    )


def publish(db: Backend, tmp: Path, files: dict[str, Path], month: str) -> None:
    """Write ``salaries.parquet`` (declared this month, and the copies), the archive months
    that receive employees, and the list of withdrawn rows; link the other archive months."""
    cols = select_list(TABLE)
    db.write_parquet(
        f"SELECT {cols} FROM salaries WHERE allocated_from_ett OR {MONTH} >= '{month}'",
        tmp / f"{TABLE}.parquet",
        # the employees, then the copies (each by id): the next run reads the employees only
        # and skips the copies' row groups (two thirds of the rows at month 6 of issue 23's
        # input, where loading them took 0.155 s of CPU against 0.09)
        order_by=f"{COPY_LAST}, {KEYS[TABLE]}",
    )
    # employees of this run's rows last declared before its month (those of the previous
    # working set not declared again, and any row changed by a late file or a merge)
    db.create(
        "salaries_a_archiver",
        f"""SELECT {cols}, {MONTH} AS mois_archive FROM salaries
        WHERE allocated_from_ett IS NULL AND {MONTH} < '{month}'
            AND salarie_id IN (SELECT salarie_id FROM int_salaries)""",
    )
    db.create(
        "salaries_retraits_tous",
        f"""SELECT salarie_id, date_derniere_declaration, {MONTH} AS mois_archive FROM (
            SELECT salarie_id, date_derniere_declaration FROM prev_salaries_retraits
            UNION SELECT salarie_id, date_derniere_declaration FROM int_salaries_retirees)""",
    )
    changed = history.months(db, "SELECT DISTINCT mois_archive FROM salaries_a_archiver")
    names = ", ".join(TABLES[TABLE])
    for m in changed:
        kept = ""
        if m in files:
            kept = (
                f"SELECT * FROM ({history.files_sql(TABLE, [files[m]])}) a WHERE NOT EXISTS "
                "(SELECT 1 FROM salaries_retraits_tous w "
                f"WHERE {history.withdrawn_match(TABLE, 'w', 'a')}) UNION ALL "
            )
        db.write_parquet(
            f"{kept}SELECT {names} FROM salaries_a_archiver WHERE mois_archive = '{m}'",
            tmp / FOLDER / f"{m}.parquet",
            order_by=KEYS[TABLE],
        )
    for m, path in files.items():
        if m not in changed:
            history.link_or_copy(path, tmp / FOLDER / f"{m}.parquet")
    (tmp / FOLDER).mkdir(exist_ok=True)
    kept_months = ", ".join(f"'{m}'" for m in files if m not in changed) or "NULL"
    db.write_parquet(
        "SELECT salarie_id, date_derniere_declaration FROM salaries_retraits_tous "
        f"WHERE mois_archive IN ({kept_months})",
        tmp / f"{WITHDRAWN_NAME}.parquet",
        order_by="date_derniere_declaration, salarie_id",
    )
