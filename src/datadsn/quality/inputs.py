"""The raw rows a run integrates: declarations not yet in the state, and their blocks.

Only the columns the consolidation uses are read; a column or a whole table missing from the
raw store (no change block ever ingested, an older norm) becomes NULLs of the right type, so a
step never fails on absent data.
"""

from __future__ import annotations

import os
from pathlib import Path

from datadsn import months
from datadsn.engine import schedule
from datadsn.engine.backends import Backend, Kind
from datadsn.engine.runner import table_from_lists
from datadsn.engine.warehouse import PARTITION, Warehouse

from . import history

RETENTION_MONTHS = 72
# The raw declaration files a snapshot's run had read (path under the raw folder, size, mtime):
# the next run reads only the others to find its pending declarations.
SEEN_FILE = "fichiers_bruts.parquet"
Seen = dict[str, tuple[int, int]]

# Raw tables read by several staging steps, loaded once as tables. Each of the others is read by
# one staging step only: a view over its files, which that step reads as it builds its own table
# (a table each cost every run a copy of the month's rows: 0.3 of 9.3 CPU-s at 2,000 employers).
SHARED = ("entreprise", "etablissement")

# raw table -> {column: type}; every raw table also has fichier, ligne and ancestor *_ligne.
RAW_COLUMNS: dict[str, dict[str, str]] = {
    "declaration": {
        "nature_declaration": "VARCHAR",
        "type_declaration": "VARCHAR",
        "fraction": "VARCHAR",
        "numero_ordre": "BIGINT",
        "mois_declare": "DATE",
        "date_constitution": "DATE",
    },
    "entreprise": {
        "declaration_ligne": "INTEGER",
        "siren": "VARCHAR",
        "nic_siege": "VARCHAR",
        "code_apen": "VARCHAR",
    },
    "etablissement": {
        "declaration_ligne": "INTEGER",
        "nic": "VARCHAR",
        "code_apet": "VARCHAR",
        "code_postal": "VARCHAR",
        "localite": "VARCHAR",
        "nature_juridique": "VARCHAR",
        "code_convention_collective_principale": "VARCHAR",
    },
    "individu": {
        "declaration_ligne": "INTEGER",
        "nir_pseudo": "VARCHAR",
        "nom_famille_pseudo": "VARCHAR",
        "nom_usage_pseudo": "VARCHAR",
        "prenoms_pseudo": "VARCHAR",
        "date_naissance_pseudo": "VARCHAR",
        "annee_date_naissance": "SMALLINT",
        "mois_date_naissance": "TINYINT",
        "sexe": "VARCHAR",
        "matricule_pseudo": "VARCHAR",
    },
    "individu_changement": {
        "declaration_ligne": "INTEGER",
        "individu_ligne": "INTEGER",
        "date_modification": "DATE",
        "ancien_nir_pseudo": "VARCHAR",
        "ancien_nom_famille_pseudo": "VARCHAR",
        "anciens_prenoms_pseudo": "VARCHAR",
        "ancienne_date_naissance_pseudo": "VARCHAR",
    },
    "contrat": {
        "declaration_ligne": "INTEGER",
        "individu_ligne": "INTEGER",
        "date_debut": "DATE",
        "statut_conventionnel": "VARCHAR",
        "code_pcs_ese": "VARCHAR",
        "libelle_emploi": "VARCHAR",
        "nature_contrat": "VARCHAR",
        "dispositif_politique_publique": "VARCHAR",
        "numero_contrat": "VARCHAR",
        "date_fin_previsionnelle": "DATE",
        "unite_mesure_quotite": "VARCHAR",
        "quotite_contrat": "DECIMAL(18,2)",
        "modalite_temps_travail": "VARCHAR",
        "code_convention_collective": "VARCHAR",
        "lieu_travail": "VARCHAR",
        "motif_recours": "VARCHAR",
        "siret_utilisateur": "VARCHAR",
    },
    "contrat_changement": {
        "declaration_ligne": "INTEGER",
        "contrat_ligne": "INTEGER",
        "date_modification": "DATE",
        "siret_ancien_etablissement": "VARCHAR",
        "ancien_numero_contrat": "VARCHAR",
        "ancienne_date_debut": "DATE",
    },
    "contrat_fin": {
        "declaration_ligne": "INTEGER",
        "contrat_ligne": "INTEGER",
        "date_fin": "DATE",
        "motif_rupture": "VARCHAR",
    },
    "remuneration": {
        "declaration_ligne": "INTEGER",
        "individu_ligne": "INTEGER",
        "date_debut_periode_paie": "DATE",
        "date_fin_periode_paie": "DATE",
        "numero_contrat": "VARCHAR",
        "type_remuneration": "VARCHAR",
        "nombre_heures": "DECIMAL(18,2)",
        "montant": "DECIMAL(18,2)",
    },
    "activite": {
        "declaration_ligne": "INTEGER",
        "remuneration_ligne": "INTEGER",
        "type_activite": "VARCHAR",
        "mesure": "DECIMAL(18,2)",
        "unite_mesure": "VARCHAR",
    },
}


def retention_cutoff(month: str) -> str:
    """Oldest declared month still kept when integrating ``month`` (72 months in all)."""
    return months.shift(month, 1 - RETENTION_MONTHS)


def retention_limit(month: str) -> str:
    """The day the SQL steps compare with (``run_params.limite_retention``): a row whose month
    or date of last declaration is on or before it leaves the state. It is the first day of the
    month before :func:`retention_cutoff`, so that the steps and the files carried over agree,
    and the 72 months are written here only."""
    return f"{months.shift(month, -RETENTION_MONTHS)}-01"


def raw_months(store: Warehouse) -> list[str]:
    """Declared months present in the raw store (partitions of the declaration table holding
    a served file: a lot not committed is not there)."""
    prefix = f"{PARTITION}="
    months = {p.parent.name[len(prefix) :] for p in store.table_files("declaration")}
    return sorted(m for m in months if m[:1].isdigit())


def _files(store: Warehouse, table: str, months: list[str]) -> list[str]:
    return [str(p) for p in store.table_files(table, months)]


def _read(files: list[str], filename: bool = False) -> str:
    """A scan of raw Parquet files; with ``filename``, each row says which file it came from."""
    quoted = ", ".join(history.quote(f) for f in files)
    options = "union_by_name = true, filename = true" if filename else "union_by_name = true"
    return f"read_parquet([{quoted}], {options})"


def load_pending(db: Backend, store: Warehouse, month: str, folder: Path | None) -> int:
    """Create ``en_attente`` and the ``raw_<table>`` inputs; returns pending declarations.

    Pending = raw declarations of a month <= ``month`` absent from the declarations of the
    previous snapshot ``folder`` (so a late file for an older month is picked up by the next
    run, and a file integrated once is never integrated again). Only the raw declaration files
    absent from the previous run's list (:func:`seen_files`), or changed since, are read: every
    declaration of the others is in the state already, and reading all the retained months cost
    every run more than the last. The run's own list goes to ``fichiers_bruts`` (see
    :func:`write_seen`). Likewise only the stored declarations of the months read are compared:
    a raw declaration is filed under its declared month, which is the ``mois`` it is stored with.
    """
    seen = seen_files(db, folder)
    # declarations older than the retention are neither kept in the state nor re-read
    cutoff = retention_cutoff(month)
    months = [m for m in raw_months(store) if cutoff <= m <= month]
    listed = _listed(store, _files(store, "declaration", months))
    table_from_lists(
        db,
        "fichiers_bruts",
        {
            "chemin": ("VARCHAR", list(listed)),
            "octets": ("BIGINT", [v[0] for v in listed.values()]),
            "modifie": ("BIGINT", [v[1] for v in listed.values()]),
        },
    )
    unread = [f for f, stat in listed.items() if seen is None or seen.get(f) != stat]
    if unread:
        files = [str(store.raw / f) for f in unread]
        db.create(
            "lues",
            f"""SELECT fichier, ligne, CAST({PARTITION} AS VARCHAR) AS mois_partition,
            filename AS fichier_brut FROM {_read(files, filename=True)}""",
        )
    else:
        db.create_empty(
            "lues",
            {
                "fichier": "VARCHAR",
                "ligne": "INTEGER",
                "mois_partition": "VARCHAR",
                "fichier_brut": "VARCHAR",
            },
        )
    read = history.months(db, "SELECT DISTINCT mois_partition FROM lues")
    db.create(
        "en_attente",
        f"""SELECT DISTINCT r.fichier, r.ligne AS declaration_ligne, r.mois_partition
        FROM lues r
        WHERE NOT EXISTS (SELECT 1 FROM ({history.stored_sql(folder, "declarations", read)}) p
                          WHERE p.fichier = r.fichier AND p.declaration_ligne = r.ligne)""",
    )
    # A chunk of the ingestion writes every table of a declaration under the same partition and
    # file name: the raw files holding pending declarations, named after their declaration file.
    holding = db.rows(
        """SELECT DISTINCT fichier_brut FROM lues r WHERE EXISTS (
            SELECT 1 FROM en_attente a
            WHERE a.fichier = r.fichier AND a.declaration_ligne = r.ligne)"""
    )
    parts = sorted(Path(f).relative_to(store.raw / "declaration") for (f,) in holding)
    # Usually every declaration of the files read is pending (a month's new files): their rows
    # then load without being matched against the pending list, a hash of every row's file path
    # (6.5 of 33 ms for the 23,000 contracts of a month).
    (some_stored,) = db.rows(
        "SELECT (SELECT count(*) FROM en_attente) "
        "< (SELECT count(*) FROM (SELECT DISTINCT fichier, ligne FROM lues))"
    )[0]
    schedule.each(
        db,
        RAW_COLUMNS,
        lambda cur, table: _load_table(
            cur, store, table, RAW_COLUMNS[table], parts, only_pending=some_stored
        ),
    )
    return count(db, "en_attente")


def count(db: Backend, relation: str) -> int:
    """The rows of a table, view or parenthesised query."""
    return int(db.rows(f"SELECT count(*) FROM {relation}")[0][0])


def beyond_retention(db: Backend, store: Warehouse, month: str, folder: Path | None) -> int:
    """Declarations a run leaves out because their declared month is before the retention: those
    of the raw declaration files of such months written since the previous snapshot ``folder``
    was published (all of them on a first run). Files integrated while their month was still
    within the retention are older than that snapshot and not counted: a run reports what
    arrived too late instead of dropping it silently."""
    cutoff = retention_cutoff(month)
    old = [m for m in raw_months(store) if m < cutoff]
    if not old:
        return 0
    published = folder / "chargements.parquet" if folder else None
    since = published.stat().st_mtime_ns if published and published.exists() else None
    files = [
        f
        for f in _files(store, "declaration", old)
        if since is None or os.stat(f).st_mtime_ns > since
    ]
    if not files:
        return 0
    return count(db, _read(files))


def _load_table(
    db: Backend,
    store: Warehouse,
    table: str,
    columns: dict[str, str],
    parts: list[Path],
    only_pending: bool = True,
) -> None:
    """``raw_<table>``: the rows of ``parts``; with ``only_pending``, those of the pending
    declarations only (the files also hold declarations integrated already)."""
    wanted = {"fichier": "VARCHAR", "ligne": "INTEGER", **columns}
    # the same part of each table belongs to the same (served) lot version as its declarations
    files = [str(f) for part in parts if (f := store.raw / table / part).exists()]
    name = f"raw_{table}"
    if not files:
        db.create_empty(name, wanted)
        return
    source = _read(files)
    present = set(db.columns(f"SELECT * FROM {source}"))
    select = ", ".join(
        f"CAST({c if c in present else 'NULL'} AS {t}) AS {c}" for c, t in wanted.items()
    )
    key = "ligne" if table == "declaration" else "declaration_ligne"
    where = (
        f""" WHERE EXISTS (SELECT 1 FROM en_attente a
                      WHERE a.fichier = r.fichier AND a.declaration_ligne = r.{key})"""
        if only_pending
        else ""
    )
    kind: Kind = "table" if table in SHARED else "view"
    db.create(name, f"SELECT {select} FROM {source} r{where}", kind=kind)


def _listed(store: Warehouse, files: list[str]) -> Seen:
    out = {}
    for f in files:
        stat = os.stat(f)
        out[os.path.relpath(f, store.raw)] = (stat.st_size, stat.st_mtime_ns)
    return out


def seen_files(db: Backend, folder: Path | None) -> Seen | None:
    """The raw declaration files the run of ``folder`` read (None: unknown, read them all)."""
    path = folder / SEEN_FILE if folder else None
    if path is None or not path.exists():
        return None
    rows = db.rows(f"SELECT chemin, octets, modifie FROM read_parquet({history.quote(path)})")
    return {c: (o, m) for c, o, m in rows}


def write_seen(db: Backend, tmp: Path) -> None:
    db.write_parquet("SELECT * FROM fichiers_bruts", tmp / SEEN_FILE, order_by="chemin")
