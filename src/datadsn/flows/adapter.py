"""The only module of ``flows`` that touches the indicators package.

It opens a session restricted to a flow's population (the ``ind_base`` layer is filtered in
place once the window is prepared, so every indicator and the audit recomputation see the same
population), releases tables through ``indicators.publish``/``release`` and audits them with
``indicators.audit``; extracts go through ``indicators.extract``.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from datadsn.engine.warehouse import Warehouse
from datadsn.indicators import attacker, public, release, suppression
from datadsn.indicators import audit as ind_audit
from datadsn.indicators import extract as ind_extract
from datadsn.indicators.catalogue import UnknownIndicator, get
from datadsn.indicators.compute import IndicatorError, Session, check_dims
from datadsn.indicators.publish import protected_table
from datadsn.indicators.rules import Rules
from datadsn.indicators.suppression import Ledger

if TYPE_CHECKING:
    from .spec import ExtractSpec, Scope

EXTRACT_COLUMNS = (
    "mois",
    "salarie_id",
    "contrat_id",
    "etablissement_id",
    "sexe",
    "tranche_age",
    "naf",
    "zone",
    "nature_contrat",
    "heures",
    "heures_supp",
    "tranche_brut",
)
DATA = Path(ind_extract.__file__).parent / "data"

__all__ = ["IndicatorError", "Rules"]


def default_rules() -> dict[str, Any]:
    return Rules().to_dict()


def rules_for(overrides: dict[str, float], unit_level: bool = False) -> Rules:
    """The common rules, tightened by a flow's ``secret``; ``unit_level`` (a habilitation
    granted unit-level data) lifts the enterprise rules."""
    base = Rules().to_dict()
    for key, value in overrides.items():
        base[key] = int(value) if isinstance(base[key], int) else float(value)
    base["secret_entreprises"] = not unit_level
    return Rules.from_dict(base)


@functools.cache
def department_regions() -> dict[str, str]:
    with (DATA / "departements.csv").open(encoding="utf-8") as handle:
        return {row["departement"]: row["region"] for row in csv.DictReader(handle)}


def check_indicator(code: str, dims: list[str] | None, period: str) -> list[str]:
    try:
        ind = get(code)
    except UnknownIndicator as exc:
        return [str(exc.args[0])]
    problems = []
    try:
        check_dims(ind, list(dims if dims is not None else ind.par_defaut))
    except IndicatorError as exc:
        problems.append(str(exc))
    if period not in ind.periodicite:
        problems.append(f"périodicité {period} non prévue pour {code}")
    return problems


def default_dims(code: str) -> tuple[str, ...]:
    return get(code).par_defaut


class ScopedSession(Session):
    """A session whose base layer only holds the flow's population."""

    def __init__(
        self,
        store: Warehouse,
        scope: Scope,
        threads: int | None = None,
        engine: str | None = None,
        master: str | None = None,
    ):
        super().__init__(store, threads=threads, engine=engine, master=master)
        self.scope = scope

    def restrict_base(self) -> None:
        where, params = self.filters()
        if where:
            # Only ind_base's columns are kept: the establishment's dimensions stay looked up.
            self.backend.create(
                "ind_base",
                "SELECT b.* FROM ind_base AS b "
                "LEFT JOIN ind_dims_etablissement AS e ON e.etablissement_id = b.etablissement_id "
                "WHERE " + " AND ".join(where),
                params=params,
            )

    def filters(self) -> tuple[list[str], list[str]]:
        s = self.scope
        where: list[str] = []
        params: list[str] = []
        if s.naf:
            where.append(
                "("
                + " OR ".join("starts_with(replace(d_naf_sous_classe, '.', ''), ?)" for _ in s.naf)
                + ")"
            )
            params += list(s.naf)
        geo = []
        if s.regions:
            geo.append(f"d_region IN ({', '.join('?' for _ in s.regions)})")
            params += list(s.regions)
        if s.departements:
            geo.append(f"d_departement IN ({', '.join('?' for _ in s.departements)})")
            params += list(s.departements)
        if geo:
            where.append("(" + " OR ".join(geo) + ")")
        if s.natures_contrat:
            where.append(f"d_nature_contrat IN ({', '.join('?' for _ in s.natures_contrat)})")
            params += list(s.natures_contrat)
        if s.siren:
            where.append(
                "b.etablissement_id IN (SELECT etablissement_id FROM etablissements WHERE "
                f"left(siret, 9) IN ({', '.join('?' for _ in s.siren)}))"
            )
            params += list(s.siren)
        return where, params

    def enterprises(self) -> dict[str, int]:
        """The enterprises (SIREN) with a poste-mois in the population, with their contracts."""
        rows = self.backend.rows(
            "SELECT e.entreprise, count(DISTINCT b.contrat_id) FROM ind_base AS b "
            "JOIN ind_dims_etablissement AS e ON e.etablissement_id = b.etablissement_id "
            "GROUP BY 1"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def population(self) -> int:
        rows = self.backend.rows("SELECT count(DISTINCT salarie_id) FROM ind_base")
        return int(rows[0][0]) if rows else 0


@dataclass
class Produced:
    path: Path
    rows: int
    masked_primary: int
    masked_secondary: int
    digest: str
    # the table's cells, recorded in the suppression ledger once the delivery is published
    cells: pl.DataFrame | None = None
    code: str = ""
    source: str = ""


def release_indicator(
    session: ScopedSession,
    code: str,
    dims: list[str],
    start: str,
    end: str,
    period: str,
    rules: Rules,
    targets: list[Path],
    source: dict[str, Any],
) -> list[Produced]:
    """Compute one indicator once, write it in every requested format."""
    ind = get(code)
    ledger = Ledger(session.store.root)
    scope = dataclasses.asdict(session.scope)
    cells, dims = protected_table(session, ind, dims, start, end, period, rules, ledger, scope)
    table_source = suppression.source(ind.code, dims, start, end, period, scope)
    table = release.published_table(cells, ind, dims)
    meta = release.metadata(ind, dims, period, start, end, rules, table, "entrepôt DataDSN")
    # Deterministic metadata: the run date is in the run log, the file says what it is built on.
    meta["genere_le"] = source["instantane"]
    meta["flux"] = source
    out = []
    for target in targets:
        release.write(table, meta, target)
        out.append(
            Produced(
                target,
                table.height,
                int(table["masque_primaire"].sum()),
                int(table["masque_secondaire"].sum()),
                meta["empreinte_sha256"],
                cells,
                ind.code,
                table_source,
            )
        )
    return out


def record_masked(store: Warehouse, produced: list[Produced]) -> None:
    """Keep what a published delivery masked masked in every later table of its periods."""
    ledger = Ledger(store.root)
    seen = set()
    for p in produced:
        if p.cells is not None and id(p.cells) not in seen:
            seen.add(id(p.cells))
            ledger.record(p.cells, p.code, p.source)


def audit_file(path: Path, session: Session | None) -> list[str]:
    """The indicators package's audit (recomputing the cells when a session is given)."""
    return ind_audit.audit(path, session)


def release_extract(
    session: ScopedSession,
    spec: ExtractSpec,
    start: str,
    end: str,
    recipient: str,
    key: bytes,
    rules: Rules,
    targets: list[Path],
) -> list[Produced]:
    scope = session.scope
    deps = list(scope.departements)
    if scope.regions:
        deps += [d for d, r in department_regions().items() if r in scope.regions]
    request = ind_extract.ExtractRequest(
        start, end, recipient, key, spec.niveau_naf, spec.niveau_geo, spec.niveau_age,
        list(scope.naf), sorted(set(deps)),
    )  # fmt: skip
    data = ind_extract.build(session, request, rules)
    if scope.natures_contrat:
        data = data.filter(pl.col("nature_contrat").is_in(list(scope.natures_contrat)))
    # Only the quasi-identifiers the file will hold can single anyone out from it, and only its
    # columns can re-link it to another recipient's file.
    quasi = [c for c in ind_extract.QUASI if c in spec.colonnes]
    released = list(spec.colonnes)
    data, _ = ind_extract.suppress_rare(data, rules, quasi, released)
    result = ind_extract.check(data, rules, quasi, released)
    data = data.select(list(spec.colonnes))
    digest = hashlib.sha256(data.write_csv().encode("utf-8")).hexdigest()
    out = []
    for target in targets:
        ind_extract.write(data, request, rules, result, target, quasi)
        out.append(Produced(target, data.height, 0, 0, digest))
    return out


def audit_extract(path: Path, rules: Rules) -> list[str]:
    """Extracts are re-checked for k-anonymity and l-diversity on what the file holds."""
    data = pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)
    if ind_extract.SENSITIVE not in data.columns or "salarie_id" not in data.columns:
        return []  # l-diversity cannot be replayed without the sensitive column: checked at release
    quasi = [c for c in ind_extract.QUASI if c in data.columns]
    try:
        ind_extract.check(data.with_columns(pl.all().cast(pl.Utf8)), rules, quasi)
    except ind_extract.ExtractRefused as exc:
        return [str(exc)]
    return []


def holdings(
    store: Warehouse,
    references: list[str] | None,
    new: list[tuple[Path, Scope]] | None = None,
) -> list[attacker.Holding]:
    """What the habilitations ``references`` (all when None) hold: every table delivered to
    them, the public releases, and the ``new`` files about to be delivered."""
    from .run import EXTRACT_SUFFIX, MANIFEST, deliveries_root

    root = deliveries_root(store)
    if references is None:
        references = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    files: list[tuple[Path, dict[str, Any]]] = []
    for reference in references:
        for manifest in sorted((root / reference).glob(f"*/*/{MANIFEST}")):
            if any(p.startswith(".") for p in manifest.relative_to(root).parts):
                continue  # a version folder behind its published link, or a run's temporary one
            data = json.loads(manifest.read_text(encoding="utf-8"))
            seen = set()
            for entry in data.get("fichiers", []):
                path = manifest.parent / entry["nom"]
                table = entry.get("empreinte_contenu")
                tabular = path.suffix in release.SUFFIXES and not path.stem.endswith(EXTRACT_SUFFIX)
                if tabular and table and table not in seen:
                    seen.add(table)
                    files.append((path, data.get("perimetre") or {}))
    files += [(path, dataclasses.asdict(scope)) for path, scope in new or []]
    out = public.holdings(store.root)
    for path, scope in files:
        found = attacker.file_holding(path, scope)
        if found is not None:
            out.append(found)
    return out


def collusion_problems(store: Warehouse, produced: list[Produced], scope: Scope) -> list[str]:
    """The attacker audit of the tables about to be delivered together with everything every
    recipient already holds and the public releases (recipients may pool what they hold): only
    the indicators and periods of the new tables are solved."""
    new, seen, codes, periods = [], set(), set(), set()
    for p in produced:
        if p.cells is not None and p.digest not in seen:
            seen.add(p.digest)
            new.append((p.path, scope))
            codes.add(p.code)
            periods |= set(p.cells["periode"].cast(pl.Utf8).unique())
    if not new:
        return []
    return attacker.attack(holdings(store, None, new), codes, periods)
