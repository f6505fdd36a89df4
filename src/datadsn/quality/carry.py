"""What a run rewrites of the history tables, and what it carries over from the last snapshot.

A run rewrites the declared months of its declarations (``declarations``, ``contrats_mois``,
``activites_sources``: a declaration key includes its month) and the calendar months its hours
change (``activites``, see ``int_activites_mois``). Every other month file of the previous
snapshot within the 72-month retention is linked into the new one (see ``history``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datadsn import months
from datadsn.engine.backends import Backend

from . import history
from .inputs import retention_cutoff
from .schema import KEYS, select_list

# tables whose rewritten months are those of the run's declarations
DECLARED = ("declarations", "contrats_mois", "activites_sources")
UNITS = "prev_unites_activite"  # see Carry.load_units


@dataclass
class Carry:
    folder: Path | None  # previous snapshot
    month: str
    rewritten: dict[str, list[str]] = field(default_factory=dict)

    def previous(self, table: str) -> dict[str, Path]:
        if self.folder is None:
            return {}
        cutoff = retention_cutoff(self.month)
        return {m: p for m, p in history.part_files(self.folder, table).items() if m >= cutoff}

    def carried(self, table: str) -> dict[str, Path]:
        """Month files kept as they are: not rewritten, within the retention."""
        done = set(self.rewritten.get(table, []))
        return {m: p for m, p in self.previous(table).items() if m not in done}

    def load(self, db: Backend) -> None:
        """After ``load_pending``: ``prev_<table>`` holds the stored rows of the months rewritten
        only."""
        declared = history.months(db, "SELECT DISTINCT mois_partition FROM en_attente")
        for table in DECLARED:
            self.rewritten[table] = declared
            db.create(f"prev_{table}", history.stored_sql(self.folder, table, declared))
        self.load_units(db, declared)

    def load_units(self, db: Backend, declared: list[str]) -> None:
        """``prev_unites_activite`` (``UNITS``): the activity unit each contract declared in the
        stored months among the 3 before each declared month, for the activity lines whose unit
        is missing or was rejected (int_heures_declarees)."""
        wanted = sorted({months.shift(d, -k) for d in declared for k in (1, 2, 3)})
        stored = history.stored_sql(self.folder, "contrats_mois", wanted)
        db.create(
            UNITS,
            f"SELECT contrat_id, mois, unite_mesure_activite FROM ({stored}) s "
            "WHERE unite_mesure_activite IS NOT NULL",
        )

    def sources_view(self, db: Backend) -> None:
        """After ``int_activites_mois``: ``prev_activites_sources_conservees``, the sources carried
        over for the calendar months the run recomputes, named as constants so that DuckDB skips
        the files whose month statistics exclude them (most of the history)."""
        self.rewritten["activites"] = history.months(
            db, "SELECT DISTINCT strftime(mois, '%Y-%m') FROM int_activites_mois"
        )
        kept = list(self.carried("activites_sources").values())
        months = ", ".join(f"DATE '{m}-01'" for m in self.rewritten["activites"])
        where = f"mois IN ({months})" if months else "false"
        sources = history.files_sql("activites_sources", kept)
        db.create(
            "prev_activites_sources_conservees",
            f"SELECT * FROM ({sources}) WHERE {where}",
            kind="view",
        )

    def carried_count(self, db: Backend) -> int:
        """``activites_reprises``: the rows of the carried months of ``activites`` once their
        absorbed contract ids are resolved. The published table is these months and the run's
        own (``activites``, resolved already), which never share a month, so its count is the
        sum of both: the scan of every carried month needs only the run's fusions, and runs
        beside the run's hours instead of after them."""
        kept = list(self.carried("activites").values())
        stored = history.files_sql("activites", kept)
        count = history.resolved_count_sql("activites", stored, "SELECT * FROM fusions")
        db.create("activites_reprises", count)
        return int(db.rows("SELECT lignes FROM activites_reprises")[0][0])

    def publish(self, db: Backend, tmp: Path, table: str) -> None:
        """One file per month: the months rewritten from the run's table, the others linked."""
        column = history.PARTITIONED[table]
        written = history.months(db, f"SELECT DISTINCT strftime({column}, '%Y-%m') FROM {table}")
        for m in written:
            db.write_parquet(
                f"SELECT {select_list(table)} FROM {table} "
                f"WHERE strftime({column}, '%Y-%m') = '{m}'",
                tmp / table / f"{m}.parquet",
                order_by=KEYS[table],
            )
        for m, path in self.carried(table).items():
            if m not in written:
                history.link_or_copy(path, tmp / table / f"{m}.parquet")
        (tmp / table).mkdir(exist_ok=True)
