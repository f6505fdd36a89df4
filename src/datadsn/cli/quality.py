"""Commands of the quality stage: ``consolidate`` and ``evaluate`` (``register(app)``)."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import common
from .common import EngineOpt, MasterOpt, WarehouseOpt, console, err
from .errors import Failure, UsageError, explain, writing

if TYPE_CHECKING:
    from datadsn.engine.warehouse import Warehouse
    from datadsn.quality.consolidate import Progress as Report
    from datadsn.quality.consolidate import RunSummary


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.fields[mois]}[/]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def consolidate_command(
    month: Annotated[
        str | None, typer.Option("--month", help="Mois à consolider (AAAA-MM).")
    ] = None,
    through: Annotated[
        str | None,
        typer.Option("--through", help="Consolider tous les mois en attente jusqu'à AAAA-MM."),
    ] = None,
    warehouse: WarehouseOpt = None,
    engine: EngineOpt = None,
    master: MasterOpt = None,
    profile_json: Annotated[
        Path | None,
        typer.Option(
            "--profile-json",
            hidden=True,
            help="Écrire le profil de la commande (secondes par étape et coûts fixes) en JSON.",
        ),
    ] = None,
    plans: Annotated[
        Path | None,
        typer.Option(
            "--plans",
            help="Écrire le plan profilé de chaque étape (DuckDB) dans ce dossier, un "
            "sous-dossier par mois, et afficher les étapes les plus lourdes et les jointures "
            "« delim ».",
        ),
    ] = None,
) -> None:
    """Consolider les déclarations brutes en base de qualité (un instantané par mois)."""
    started = time.perf_counter()
    from datadsn.engine.backends import engine_name
    from datadsn.quality.consolidate import check_run, pending_months
    from datadsn.quality.inputs import RETENTION_MONTHS, retention_cutoff

    fixed = {"import de la consolidation": time.perf_counter() - started}

    if (month is None) == (through is None):
        raise UsageError("indiquez soit --month AAAA-MM, soit --through AAAA-MM")
    chosen = engine_name(engine)
    if plans is not None and chosen != "duckdb":
        raise UsageError("--plans : les plans profilés sont ceux de DuckDB (--engine duckdb)")
    store = common.warehouse(warehouse)
    if not store.raw.exists():
        raise UsageError(f"aucune donnée brute dans {store.root} : lancez `datadsn ingest`")
    interrupted = store.interrupted_lots()
    if interrupted:
        err.print(
            f"[yellow]Attention :[/] fichiers d'une ingestion interrompue ignorés (lot(s) "
            f"{', '.join(interrupted)}) : relancez `datadsn ingest` sur les mêmes fichiers"
        )
    months = (
        [check_run(store, month)] if month is not None else pending_months(store, through or "")
    )
    fixed["vérifications"] = time.perf_counter() - started - fixed["import de la consolidation"]
    summaries: list[RunSummary] = []
    if not months:
        console.print("Aucun mois en attente : la base de qualité est à jour.")
        return
    common.folder(store.root, "entrepôt")
    table = Table(title="Consolidation")
    for column in (
        "mois",
        "déclarations",
        "établissements",
        "salariés",
        "contrats",
        "activités",
        "fusions",
        "durée (s)",
    ):
        table.add_column(column, justify="right")
    warnings: list[str] = []
    for m in months:
        with _progress() as bar:
            task = bar.add_task("", total=None, mois=m)

            def report(label: str, done: int, total: int, task=task, bar=bar) -> None:
                bar.update(task, description=label, completed=done, total=total)

            folder = plans / m if plans is not None else None
            s = _run_month(store, m, report, m == months[-1], chosen, master, folder)
            summaries.append(s)
        if s.beyond_retention:
            warnings.append(
                f"{m} : {s.beyond_retention} déclaration(s) d'un mois antérieur à la rétention "
                f"de {RETENTION_MONTHS} mois (avant {retention_cutoff(m)}) ignorée(s)"
            )
        if s.several_establishments:
            warnings.append(
                f"{m} : {s.several_establishments} déclaration(s) à plusieurs blocs Entreprise ou "
                "Etablissement ignorée(s) : réingérez leurs fichiers (rejet ETABLISSEMENT_MULTIPLE)"
            )
        c = s.counts
        table.add_row(
            m,
            str(s.declarations),
            str(c.get("etablissements", 0)),
            str(c.get("salaries", 0)),
            str(c.get("contrats", 0)),
            str(c.get("activites", 0)),
            str(c.get("fusions", 0)),
            f"{s.total_seconds:.2f}",
        )
    console.print(table)
    for warning in warnings:
        err.print(f"[yellow]Attention :[/] {warning}")
    console.print(f"Instantané publié : {store.root / 'quality' / months[-1]}")
    if plans is not None:
        _print_plans(plans / months[-1])
    if profile_json is not None:
        from datadsn.bench.fresh import write_profile

        write_profile(profile_json, time.perf_counter() - started, fixed, summaries)


def _run_month(
    store: Warehouse,
    month: str,
    report: Report,
    refresh_catalog: bool,
    engine: str,
    master: str | None,
    plans: Path | None = None,
) -> RunSummary:
    """One month; a failure after its snapshot was published (the catalogue rebuild) says so."""
    from datadsn.engine.backends.duck import pandas_hidden
    from datadsn.quality.consolidate import consolidate
    from datadsn.quality.snapshot import current_month

    before = current_month(store)
    try:
        with writing(store.root), pandas_hidden() if engine == "duckdb" else nullcontext():
            return consolidate(
                store,
                month,
                progress=report,
                refresh_catalog=refresh_catalog,
                engine=engine,
                master=master,
                plans=plans,
            )
    except Exception as exc:
        if before == month or current_month(store) != month:
            raise
        raise Failure(
            f"instantané {month} publié, mais le catalogue de l'entrepôt n'a pas été "
            f"reconstruit : {explain(exc)} ; corrigez puis relancez "
            f"`datadsn consolidate --month {month}`"
        ) from exc


def _print_plans(folder: Path, shown: int = 15) -> None:
    """The heaviest steps of a profiled month and every delim join (engine/plans.py)."""
    from datadsn.engine.plans import read_all

    steps = read_all(folder)
    console.print(f"Plans profilés : {folder}")
    table = Table(title="Étapes les plus lourdes (temps des opérateurs DuckDB)")
    table.add_column("étape", no_wrap=True)  # a step name stays whole, to be searched
    table.add_column("total (s)", justify="right")
    table.add_column("opérateur le plus lourd", overflow="fold")
    table.add_column("s", justify="right")
    table.add_column("lignes", justify="right")
    for plan in steps[:shown]:
        top = plan.heaviest
        table.add_row(
            plan.step,
            f"{plan.seconds:.3f}",
            top.name if top else "-",
            f"{top.seconds:.3f}" if top else "-",
            f"{top.rows:,}" if top else "-",
        )
    console.print(table)
    delim = [(plan.step, op) for plan in steps for op in plan.delim_joins]
    if not delim:
        console.print("Aucune jointure « delim » (EXISTS corrélé) dans les plans.")
        return
    console.print(
        "Jointures « delim » (un EXISTS corrélé : à écrire en jointure si l'entrée est grande) :"
    )
    for step, op in sorted(delim, key=lambda item: -item[1].rows):
        console.print(f"  {step} : {op.name}, entrée de {op.rows:,} lignes, {op.seconds:.3f} s")


def evaluate_command(
    truth: Annotated[Path, typer.Option("--truth", help="Dossier truth/ du simulateur.")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Comparer la base de qualité à la vérité terrain du simulateur."""
    from datadsn.quality.evaluate import evaluate

    result = evaluate(common.warehouse(warehouse), truth)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str, indent=2))
        return
    table = Table(title=f"Exactitude au {result['mois']}")
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    labels = {
        "salarie_precision": "salariés : précision",
        "salarie_rappel": "salariés : rappel",
        "salarie_f1": "salariés : F1",
        "contrat_precision": "contrats : précision",
        "contrat_rappel": "contrats : rappel",
        "contrat_f1": "contrats : F1",
        "fin_statut_exact": "fins de contrat exactes",
        "fin_statut_exact_hors_3_derniers_mois": "fins exactes (hors 3 derniers mois)",
        "heures_erreur_relative": "heures : écart relatif max par mois",
        "brut_erreur_relative": "brut : écart relatif max par mois",
        "identites_declarees": "identités déclarées (SIRET, clé, contrat, mois)",
        "identites_non_evaluees": "identités non évaluées",
    }
    for key, label in labels.items():
        value = result.get(key)
        table.add_row(label, f"{value:.4%}" if isinstance(value, float) else str(value))
    console.print(table)
    kinds = Table(title="Anomalies injectées résolues par la base de qualité")
    # « pas encore observables »: ends only the 3 months of silence will reveal (see recall.py)
    for column in (
        "anomalie",
        "critère",
        "événements",
        "résolues",
        "rappel",
        "pas encore observables",
    ):
        kinds.add_column(column, justify="left" if column in ("anomalie", "critère") else "right")
    by_kind = result.get("par_anomalie")
    for row in by_kind if isinstance(by_kind, list) else []:
        kinds.add_row(
            row["type"],
            row["critere"],
            str(row["evenements"]),
            str(row["resolus"]),
            "—" if row["rappel"] is None else f"{row['rappel']:.2%}",
            str(row["pas_encore_observables"]),
        )
    console.print(kinds)


def register(app: typer.Typer) -> None:
    """Add ``consolidate`` and ``evaluate`` to the datadsn command line."""
    app.command("consolidate")(consolidate_command)
    app.command("evaluate")(evaluate_command)
