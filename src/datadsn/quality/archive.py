"""Settled contracts are archived out of the working set, one file per month of last declaration.

Contracts accumulate (72 months of ends), and ranking them all every month made the run cost
grow with the history. A contract whose end can no longer change by itself (declared end, or
inferred end once its establishment has declared three months past it; not a temporary-work
contract whose user establishment is unknown) moves, with its temporary-work copy if any, to
``contrats_archives/<YYYY-MM>.parquet`` (month of its last declaration, so the
72-month retention drops whole files). Later runs carry these files over by hard link and bring
back only the contracts their declarations may change (``int_contrats_a_reprendre``, then
:func:`bring_back`). The published ``contrats`` is the working file plus the archive (see
``history.table_sql``).
"""

from __future__ import annotations

from pathlib import Path

from datadsn.engine.backends import Backend

from . import history
from .inputs import retention_cutoff
from .schema import KEYS, TABLES, select_list

FOLDER = history.ARCHIVES["contrats"]


def carried(folder: Path | None, month: str, table: str = "contrats") -> dict[str, Path]:
    """Archive files of ``table`` in the previous snapshot still within the retention."""
    if folder is None:
        return {}
    cutoff = retention_cutoff(month)
    parts = history.part_files(folder, history.ARCHIVES[table])
    return {m: p for m, p in parts.items() if m >= cutoff}


def load(db: Backend, files: dict[str, Path]) -> None:
    """``prev_contrats_archives``: the archived contracts, scanned in place."""
    if files:
        listed = ", ".join(history.quote(p) for p in files.values())
        db.create(
            "prev_contrats_archives",
            f"SELECT {select_list('contrats')} FROM read_parquet([{listed}])",
            kind="view",
        )
    else:
        db.create_empty("prev_contrats_archives", TABLES["contrats"])


def bring_back(db: Backend, files: dict[str, Path]) -> int:
    """``int_contrats_reactives``: the whole rows of the contracts ``int_contrats_a_reprendre``
    names, read from their months' files only (a scan of every file for two contracts took
    0.025 s of the critical path at month 24, one file 0.002 s); returns the files read."""
    months = history.months(db, "SELECT DISTINCT mois_archive FROM int_contrats_a_reprendre")
    chosen = [files[m] for m in months if m in files]
    if not chosen:
        db.create_empty("int_contrats_reactives", TABLES["contrats"])
        return 0
    listed = ", ".join(history.quote(p) for p in chosen)
    db.create(
        "int_contrats_reactives",
        f"SELECT {select_list('contrats')} FROM read_parquet([{listed}]) "
        "WHERE contrat_id IN (SELECT contrat_id FROM int_contrats_a_reprendre)",
    )
    return len(chosen)


def publish(db: Backend, tmp: Path, files: dict[str, Path]) -> None:
    """Write the working ``contrats.parquet`` and the archive months that changed (the settled
    contracts: ``sql/publication/contrats_reglees.sql``); link the rest."""
    cols = select_list("contrats")
    db.write_parquet(
        f"SELECT {cols} FROM contrats c WHERE NOT EXISTS "
        "(SELECT 1 FROM contrats_reglees r WHERE r.contrat_id = c.contrat_id)",
        tmp / "contrats.parquet",
        order_by=KEYS["contrats"],
    )
    changed = history.months(
        db,
        "SELECT mois_archive FROM contrats_reglees UNION SELECT strftime("
        "date_derniere_declaration, '%Y-%m') FROM int_contrats_reactives",
    )
    for month in changed:
        kept = ""
        if month in files:
            kept = (
                f"SELECT {cols} FROM read_parquet({history.quote(files[month])}) a WHERE NOT "
                "EXISTS (SELECT 1 FROM int_contrats_reactives r WHERE r.contrat_id = a.contrat_id)"
                " UNION ALL "
            )
        db.write_parquet(
            f"{kept}SELECT {cols} FROM contrats c JOIN contrats_reglees r USING (contrat_id) "
            f"WHERE r.mois_archive = '{month}'",
            tmp / FOLDER / f"{month}.parquet",
            order_by=KEYS["contrats"],
        )
    for month, path in files.items():
        if month not in changed:
            history.link_or_copy(path, tmp / FOLDER / f"{month}.parquet")
