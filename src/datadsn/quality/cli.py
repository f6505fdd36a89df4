"""Commands of the quality stage: ``consolidate`` and ``evaluate`` (``register(app)``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from datadsn.engine.warehouse import Warehouse

console = Console()
err = Console(stderr=True)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", "-w", help="Dossier de l'entrepôt (défaut : $DATADSN_HOME/warehouse)."
    ),
]


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
) -> None:
    """Consolider les déclarations brutes en base de qualité (un instantané par mois)."""
    from .consolidate import ConsolidationError, consolidate, pending_months
    from .inputs import RETENTION_MONTHS, retention_cutoff

    if (month is None) == (through is None):
        err.print("[red]Erreur :[/] indiquez soit --month AAAA-MM, soit --through AAAA-MM")
        raise typer.Exit(2)
    store = Warehouse.at(warehouse)
    if not store.raw.exists():
        err.print(
            f"[red]Erreur :[/] aucune donnée brute dans {store.root} : lancez `datadsn ingest`"
        )
        raise typer.Exit(2)
    interrupted = store.interrupted_lots()
    if interrupted:
        err.print(
            f"[yellow]Attention :[/] fichiers d'une ingestion interrompue ignorés (lot(s) "
            f"{', '.join(interrupted)}) : relancez `datadsn ingest` sur les mêmes fichiers"
        )
    try:
        months = [month] if month else pending_months(store, str(through))
    except ConsolidationError as exc:
        err.print(f"[red]Erreur :[/] {exc}")
        raise typer.Exit(2) from None
    if not months:
        console.print("Aucun mois en attente : la base de qualité est à jour.")
        return
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

            try:
                s = consolidate(store, m, progress=report, refresh_catalog=m == months[-1])
            except ConsolidationError as exc:
                err.print(f"[red]Erreur :[/] {exc}")
                raise typer.Exit(2) from None
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


def evaluate_command(
    truth: Annotated[Path, typer.Option("--truth", help="Dossier truth/ du simulateur.")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Comparer la base de qualité à la vérité terrain du simulateur."""
    from .evaluate import EvaluationError, evaluate

    try:
        result = evaluate(Warehouse.at(warehouse), truth)
    except EvaluationError as exc:
        err.print(f"[red]Erreur :[/] {exc}")
        raise typer.Exit(2) from None
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
    }
    for key, label in labels.items():
        value = result.get(key)
        table.add_row(label, f"{value:.4%}" if isinstance(value, float) else str(value))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``consolidate`` and ``evaluate`` to the datadsn command line."""
    app.command("consolidate")(consolidate_command)
    app.command("evaluate")(evaluate_command)
