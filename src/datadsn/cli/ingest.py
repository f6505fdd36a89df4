"""``datadsn ingest`` and ``datadsn sql``: the raw store, in and out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from . import common
from .common import EngineOpt, MasterOpt, WarehouseOpt, WorkersOpt, console, err
from .errors import EXIT_REJECTIONS, UsageError, writing

if TYPE_CHECKING:
    from datadsn.ingest.run import IngestSummary


def check_inputs(paths: list[Path]) -> None:
    """Every path exists, and a folder holds at least one file (hidden ones are skipped)."""
    from datadsn.ingest.sources import walk

    for path in paths:
        if not path.exists():
            raise UsageError(f"{path} : fichier ou dossier introuvable")
        if path.is_dir() and next(walk(str(path)), None) is None:
            raise UsageError(f"le dossier {path} ne contient aucun fichier à ingérer")


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers DSN, dossiers, archives .zip/.gz.")],
    warehouse: WarehouseOpt = None,
    summary: Annotated[
        Path | None, typer.Option(help="Écrire le bilan de l'ingestion dans ce fichier JSON.")
    ] = None,
    workers: WorkersOpt = None,
    demo: Annotated[
        bool, typer.Option(help="Clé de pseudonymisation de démonstration (jamais en production).")
    ] = False,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="neodes ou dsnp3 (défaut : extractions DSNP3 reconnues à leur nom, NEODES sinon).",
        ),
    ] = None,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Lire des fichiers DSN et les ranger dans l'entrepôt (tables brutes + rejets)."""
    from datadsn.engine.backends import engine_name
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest as run_ingest

    if format is not None and format.lower() not in ("neodes", "dsnp3"):
        raise UsageError(f"--format {format} : neodes ou dsnp3 attendu")
    chosen = engine_name(engine)
    if chosen == "spark" and workers is not None:
        raise UsageError("--workers ne vaut pas pour le moteur spark : ses exécuteurs répartissent")
    secret = Secret.from_env(demo=demo)
    check_inputs(paths)
    target = common.output_file(summary, "--summary") if summary else None
    store = common.warehouse(warehouse, write=True)
    if secret.demo:
        err.print("[yellow]Attention : clé de pseudonymisation de DÉMONSTRATION (non secrète).[/]")
    with writing(store.root), common.byte_progress("Ingestion") as bar:
        task = bar.add_task("ingest", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_ingest(
            paths,
            store,
            secret,
            workers=workers,
            progress=on_progress,
            format=format.lower() if format else None,
            engine=chosen,
            master=master,
        )
    print_ingest_summary(result)
    if target:
        with writing(target):
            target.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    if result.lines_rejected or result.rejections:  # an empty file rejects no line
        raise typer.Exit(EXIT_REJECTIONS)


def print_ingest_summary(result: IngestSummary) -> None:
    head = Table(title=f"Ingestion du lot {result.lot}", show_header=False)
    head.add_column("", style="bold")
    head.add_column("", justify="right")
    mb = result.bytes / 1e6
    speed = f"{mb / result.seconds:.1f} Mo/s" if result.seconds else "-"
    for label, value in [
        ("Fichiers", result.files),
        ("Déclarations", result.declarations),
        ("Déclarations rejetées", result.declarations_rejected),
        ("Lignes lues", result.lines_read),
        ("Lignes rangées", result.lines_stored),
        ("Lignes rejetées", result.lines_rejected),
        ("Déclarations déjà rangées (non rangées à nouveau)", result.declarations_duplicated),
        ("Lignes de ces déclarations", result.lines_duplicated),
        ("Volume", f"{mb:.1f} Mo en {result.seconds:.1f} s ({speed})"),
        ("Entrepôt", result.warehouse),
    ]:
        head.add_row(
            label, f"{value:,}".replace(",", " ") if isinstance(value, int) else str(value)
        )
    console.print(head)
    status = "[green]OK[/]" if result.reconciled else "[bold red]ÉCART[/]"
    console.print(
        f"Rapprochement : lues {result.lines_read} = rangées {result.lines_stored} "
        f"+ rejetées {result.lines_rejected} + déjà rangées {result.lines_duplicated} {status}"
    )
    if result.leftovers_removed:
        console.print(
            f"{result.leftovers_removed} fichier(s) d'une version remplacée ou d'une ingestion "
            "interrompue supprimé(s)"
        )
    rows = Table(title="Lignes par table brute")
    rows.add_column("table")
    rows.add_column("lignes", justify="right")
    for name, count in sorted(result.rows.items()):
        rows.add_row(name, str(count))
    console.print(rows)
    if result.rejections or result.warnings:
        problems = Table(title="Rejets et avertissements (détail : raw.rejections)")
        problems.add_column("code")
        problems.add_column("nature")
        problems.add_column("nombre", justify="right")
        for code, n in result.rejections.items():
            problems.add_row(code, "rejet", str(n))
        for code, n in result.warnings.items():
            problems.add_row(code, "avertissement", str(n))
        console.print(problems)


def sql(
    query: Annotated[str, typer.Argument(help="Requête SQL (dialecte DuckDB).")],
    warehouse: WarehouseOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv ou json.")] = "table",
) -> None:
    """Interroger l'entrepôt en SQL (tables raw.<table>, raw.rejections...)."""
    import duckdb

    if format not in ("table", "csv", "json"):
        raise UsageError(f"format inconnu {format!r} : choisir table, csv ou json")
    store = common.warehouse(warehouse)
    if not store.exists():
        raise UsageError(f"aucun entrepôt dans {store.root} : lancez d'abord `datadsn ingest`")
    with store.connect() as con:
        try:
            result = con.execute(query)
        except duckdb.IOException:
            raise  # a failure of the warehouse, not of the query: the error boundary says it
        except duckdb.Error as exc:
            raise UsageError(f"requête invalide : {exc}") from None
        columns = [d[0] for d in result.description or []]
        rows = result.fetchall()
    if format == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        print(json.dumps(records, ensure_ascii=False, default=str, indent=2))
    else:
        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row])
        console.print(table)
        err.print(f"{len(rows)} ligne(s)")


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``sql`` to the datadsn command line."""
    app.command("ingest")(ingest)
    app.command("sql")(sql)
