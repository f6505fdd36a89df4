"""Run a flow for one consolidated month and publish its delivery atomically.

Layout: ``<warehouse>/deliveries/<habilitation>/<month>/<flow>/`` holds the files and a
``manifest.json``; ``<warehouse>/deliveries/<habilitation>/journal.jsonl`` logs every run
(snapshot, rules, row counts, masked cells, duration, outcome), failures included.

Everything is written to a hidden temporary folder, every file is audited there, and only then
is the folder renamed into place: a failed run never leaves a partial delivery. Running the same
month again produces the same content; when it is unchanged the published files are kept as they
are (status ``inchange``), so a delivery's bytes never change under its recipient.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datadsn import months
from datadsn.engine import publication
from datadsn.engine.backends import EngineError
from datadsn.engine.warehouse import Warehouse
from datadsn.indicators.suppression import Ledger
from datadsn.quality.snapshot import current_month

from . import adapter, ledger
from .habilitation import HabInfo, check_scope
from .spec import FlowSpec, Scope

# Opens the flow's session on the run's engine (store, perimeter).
Opener = Callable[[Warehouse, Scope], adapter.ScopedSession]

MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"
KEY_ENV = "DATADSN_CLE_FLUX"
EXTRACT_SUFFIX = "_extraction"  # an extract's file name, before its format


class RunError(RuntimeError):
    """A run that delivered nothing; the message says why, in French."""


@dataclass
class RunResult:
    flow: str
    habilitation: str
    month: str
    status: str  # livre | inchange | non_du
    folder: Path | None = None
    snapshot: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0
    population: int = 0

    @property
    def masked(self) -> int:
        return sum(f["masque_primaire"] + f["masque_secondaire"] for f in self.files)


def deliveries_root(store: Warehouse) -> Path:
    return store.root / "deliveries"


def unit_level(hab: HabInfo) -> bool:
    """The habilitation grants unit-level data (a flag the comité sets on its frozen scope)."""
    return hab.scope.get(ledger.UNIT_LEVEL) is True


def window(spec: FlowSpec, month: str) -> tuple[str, str] | None:
    """The months a run covers, or None when the flow is not due this month."""
    month = months.parse(month, RunError)
    number = int(month[5:7])
    if spec.extraction is not None:
        first = months.shift(month, -(spec.extraction.mois - 1))
    elif spec.periodicite == "mois":
        first = month
    elif spec.periodicite == "trimestre":
        if number % 3:
            return None
        first = months.shift(month, -2)
    else:
        if number != 12:
            return None
        first = f"{month[:4]}-01"
    if spec.extraction is not None and spec.periodicite != "mois":
        every = 3 if spec.periodicite == "trimestre" else 12
        if number % every:
            return None
    return first, month


def recipient_key(hab: HabInfo) -> bytes:
    master = os.environ.get(KEY_ENV, "")
    if len(master) < 16:
        raise RunError(
            f"clé des extractions absente ou trop courte (≥ 16 caractères) dans ${KEY_ENV}"
        )
    return hmac.new(master.encode("utf-8"), hab.reference.encode("utf-8"), hashlib.sha256).digest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _journal(root: Path, entry: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    with (root / JOURNAL).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")


def run(
    spec: FlowSpec,
    store: Warehouse,
    month: str,
    hab: HabInfo,
    today: date | None = None,
    threads: int | None = None,
    engine: str | None = None,
    master: str | None = None,
) -> RunResult:
    """Produce, audit and publish one month of a flow (raises ``RunError`` on any failure,
    ``EngineError`` when the engine asked for cannot be used). The cells and the extract are
    computed on ``engine`` (DuckDB, or Spark at ``master``)."""
    started = time.monotonic()
    root = deliveries_root(store) / hab.reference
    entry: dict[str, Any] = {
        "flux": spec.nom,
        "habilitation": hab.reference,
        "mois": month,
        "spec_sha256": spec.digest,
        "debut": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        opener = functools.partial(
            adapter.ScopedSession, threads=threads, engine=engine, master=master
        )
        result = _run(spec, store, month, hab, root, today, opener)
    except Exception as exc:
        entry.update(statut="echec", erreur=str(exc), duree_s=round(time.monotonic() - started, 3))
        _journal(root, entry)
        if isinstance(exc, RunError | EngineError):
            raise
        raise RunError(f"échec du flux {spec.nom} pour {month} : {exc}") from exc
    result.duration = time.monotonic() - started
    entry.update(
        statut=result.status,
        instantane=result.snapshot,
        regles=adapter.rules_for(spec.secret, unit_level(hab)).to_dict(),
        population_salaries=result.population,
        fichiers=[
            {k: f[k] for k in ("nom", "lignes", "masque_primaire", "masque_secondaire")}
            for f in result.files
        ],
        cases_masquees=result.masked,
        duree_s=round(result.duration, 3),
    )
    _journal(root, entry)
    return result


def _run(
    spec: FlowSpec,
    store: Warehouse,
    month: str,
    hab: HabInfo,
    root: Path,
    today: date | None,
    opener: Opener,
) -> RunResult:
    problems = hab.usable(today) + check_scope(spec, hab)
    if problems:
        raise RunError("flux refusé : " + " ".join(problems))
    span = window(spec, month)
    if span is None:
        return RunResult(spec.nom, hab.reference, month, "non_du")
    snapshot = current_month(store)
    if snapshot is None or snapshot < month:
        raise RunError(
            f"le mois {month} n'est pas encore consolidé (dernier mois publié : "
            f"{snapshot or 'aucun'}) : lancez `datadsn consolidate` d'abord"
        )
    period_bounds = hab.scope.get("extraction") or {}
    start_ok, end_ok = period_bounds.get("periode_debut"), period_bounds.get("periode_fin")
    if start_ok and span[0] < start_ok[:7]:
        raise RunError(f"la période accordée commence en {start_ok[:7]}, après {span[0]}")
    if end_ok and span[1] > end_ok[:7]:
        raise RunError(f"la période accordée s'arrête en {end_ok[:7]}, avant {span[1]}")
    # The period's ledger is held from reading it (to keep masked what others masked) to
    # recording what this delivery masks.
    with Ledger(store.root).hold(span[0], span[1], spec.periodicite):
        return _deliver(spec, store, month, hab, root, span, snapshot, opener)


def _deliver(
    spec: FlowSpec,
    store: Warehouse,
    month: str,
    hab: HabInfo,
    root: Path,
    span: tuple[str, str],
    snapshot: str,
    opener: Opener,
) -> RunResult:
    final = root / month / spec.nom
    tmp = root / f".tmp-{month}-{spec.nom}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    rules = adapter.rules_for(spec.secret, unit_level(hab))
    source = {"flux": spec.nom, "habilitation": hab.reference, "mois": month,
              "instantane": snapshot, "spec_sha256": spec.digest}  # fmt: skip
    session = opener(store, spec.perimetre)
    try:
        produced: list[adapter.Produced] = []
        if spec.extraction is not None:
            targets = [tmp / f"{spec.nom}{EXTRACT_SUFFIX}.{fmt}" for fmt in spec.formats]
            produced += adapter.release_extract(
                session, spec.extraction, span[0], span[1], hab.organisation,
                recipient_key(hab), rules, targets,
            )  # fmt: skip
            audits = {p.path: adapter.audit_extract(p.path, rules) for p in produced}
        else:
            for item in spec.indicateurs:
                dims = list(item.dimensions or adapter.default_dims(item.code))
                targets = [tmp / f"{spec.nom}_{item.code.lower()}.{fmt}" for fmt in spec.formats]
                produced += adapter.release_indicator(
                    session, item.code, dims, span[0], span[1], spec.periodicite, rules,
                    targets, source,
                )  # fmt: skip
            audits = {p.path: adapter.audit_file(p.path, session) for p in produced}
        failed = {path.name: probs for path, probs in audits.items() if probs}
        if failed:
            details = " ; ".join(f"{name} : {', '.join(p)}" for name, p in failed.items())
            raise RunError(f"audit du secret statistique non passé, rien n'est livré : {details}")
        pinned = adapter.collusion_problems(store, produced, spec.perimetre)
        if pinned:
            raise RunError(
                f"audit de tout ce que détiennent les destinataires non passé, rien n'est livré : "
                f"{len(pinned)} case(s) masquée(s) recalculable(s), dont {' ; '.join(pinned[:3])}"
            )
        population = session.population()
        delivered = None
        if spec.extraction is None:
            delivered = ledger.Population(
                hab.reference, spec.nom, month, span[0], span[1],
                ledger.scope_key(spec.raw.get("perimetre") or {}),
                session.enterprises(),
            )  # fmt: skip
            refused = [] if unit_level(hab) else ledger.problems(
                root.parent, delivered, rules.min_entreprises
            )  # fmt: skip
            if refused:
                raise RunError("population refusée, rien n'est livré : " + " ".join(refused))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        session.close()
    files = []
    for p in produced:
        names = [p.path, p.path.with_name(p.path.name + ".meta.json")]
        for extra in names[1:]:
            if extra.exists():
                files.append(_describe(extra, 0, 0, 0, ""))
        files.append(_describe(p.path, p.rows, p.masked_primary, p.masked_secondary, p.digest))
    manifest = {
        **source,
        "titre": spec.titre,
        "organisation": {"nom": hab.organisation, "siret": hab.siret},
        "fenetre": {"du": span[0], "au": span[1], "periode": spec.periodicite},
        "regles": rules.to_dict(),
        "perimetre": spec.raw.get("perimetre") or {},
        "fichiers": files,
    }
    problems = unprotected_counts(manifest)
    if problems:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunError("manifeste refusé, chiffres non protégés : " + ", ".join(problems))
    (tmp / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )
    status = _publish(tmp, final)
    if delivered is not None:
        ledger.record(root.parent, delivered)
    adapter.record_masked(store, produced)
    return RunResult(spec.nom, hab.reference, month, status, final, snapshot,
                     _read_manifest(final)["fichiers"], population=population)  # fmt: skip


# The only numbers a manifest may carry: the rules, and per file what the recipient can read
# from the file itself (its size, its rows, its masked cells). Any other number, such as the
# population's employees, is a figure published without secrecy.
_FILE_NUMBERS = frozenset({"octets", "lignes", "masque_primaire", "masque_secondaire"})


def unprotected_counts(manifest: dict[str, Any]) -> list[str]:
    """The paths of the numbers in ``manifest`` that no disclosure rule protects."""
    found: list[str] = []

    def walk(value: Any, where: str, allowed: frozenset[str]) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            if where.rsplit(".", 1)[-1] not in allowed:
                found.append(where)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key), allowed)
        elif isinstance(value, list):
            for item in value:
                walk(item, where, allowed)

    for key, value in manifest.items():
        if key == "regles":
            continue
        walk(value, key, _FILE_NUMBERS if key == "fichiers" else frozenset())
    return found


def _describe(path: Path, rows: int, primary: int, secondary: int, digest: str) -> dict[str, Any]:
    return {
        "nom": path.name,
        "octets": path.stat().st_size,
        "sha256": _sha256(path),
        "empreinte_contenu": digest,
        "lignes": rows,
        "masque_primaire": primary,
        "masque_secondaire": secondary,
    }


def _read_manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return data


def _content_key(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """What identifies a delivery's content, whatever the run that produced it."""
    key = [("spec", manifest["spec_sha256"]), ("regles", json.dumps(manifest["regles"]))]
    for f in manifest["fichiers"]:
        if not f["nom"].endswith(".meta.json"):
            key.append((f["nom"], f["empreinte_contenu"]))
    return sorted(key)


def _publish(tmp: Path, final: Path) -> str:
    """Rename the finished folder into place; keep the published one when nothing changed."""
    if (final / MANIFEST).exists() and _content_key(_read_manifest(final)) == _content_key(
        _read_manifest(tmp)
    ):
        shutil.rmtree(tmp)
        return "inchange"
    publication.publish_folder(tmp, final)
    return "livre"


def published(store: Warehouse, reference: str) -> list[tuple[str, str, Path]]:
    """(month, flow, folder) of every published delivery of a habilitation."""
    root = deliveries_root(store) / reference
    out = []
    for manifest in sorted(root.glob(f"*/*/{MANIFEST}")):
        folder = manifest.parent
        out.append((folder.parent.name, folder.name, folder))
    return out
