"""The ``datadsn`` command line: one verb per stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from datadsn.allocators import keep_freed_memory
from datadsn.ingest.worker import prestart

# Before the imports below load Polars: its allocator's setting, and the helper processes of a
# large ingestion, which import Polars and Arrow while this process imports the rest.
keep_freed_memory()
prestart(sys.argv)

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table  # noqa: E402

from datadsn.engine.warehouse import Warehouse  # noqa: E402
from datadsn.flows.cli import register as register_flows  # noqa: E402
from datadsn.indicators.cli import register as register_indicators  # noqa: E402
from datadsn.portal.cli import register as register_portal  # noqa: E402
from datadsn.quality.cli import register as register_quality  # noqa: E402
from datadsn.simulate.cli import register as register_simulate  # noqa: E402

if TYPE_CHECKING:
    from datadsn.ingest.run import IngestSummary

EXIT_USAGE = 2
EXIT_REJECTIONS = 3

app = typer.Typer(
    help="DataDSN : ingestion, mise en qualité et diffusion des données DSN.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
norm_app = typer.Typer(help="Catalogue de la norme NEODES.", no_args_is_help=True)
bench_app = typer.Typer(help="Mesures de performance.", no_args_is_help=True)
app.add_typer(norm_app, name="norm")
app.add_typer(bench_app, name="bench")

console = Console()
err = Console(stderr=True)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        "-w",
        help="Dossier de l'entrepôt (défaut : $DATADSN_HOME/warehouse, sinon .datadsn/warehouse).",
    ),
]


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    err.print(f"[bold red]Erreur :[/] {message}")
    return typer.Exit(code)


def byte_progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


# --- ingest -------------------------------------------------------------------------------------


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers DSN, dossiers, archives .zip/.gz.")],
    warehouse: WarehouseOpt = None,
    summary: Annotated[
        Path | None, typer.Option(help="Écrire le bilan de l'ingestion dans ce fichier JSON.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Lots de fichiers traités en parallèle (défaut : cœurs ; au-delà de 96 Mo, "
            "dans des processus auxiliaires)."
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Clé de pseudonymisation de démonstration (jamais en production).")
    ] = False,
) -> None:
    """Lire des fichiers DSN et les ranger dans l'entrepôt (tables brutes + rejets)."""
    from datadsn.ingest.pseudonymize import Secret, SecretMissingError
    from datadsn.ingest.run import ingest as run_ingest
    from datadsn.ingest.sources import InputError

    try:
        secret = Secret.from_env(demo=demo)
    except SecretMissingError as exc:
        raise fail(str(exc)) from None
    if secret.demo:
        err.print("[yellow]Attention : clé de pseudonymisation de DÉMONSTRATION (non secrète).[/]")
    store = Warehouse.at(warehouse)
    with byte_progress("Ingestion") as bar:
        task = bar.add_task("ingest", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = run_ingest(paths, store, secret, workers=workers, progress=on_progress)
        except InputError as exc:
            raise fail(str(exc)) from None
    print_ingest_summary(result)
    if summary:
        summary.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
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
        f"+ rejetées {result.lines_rejected} {status}"
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


# --- sql ----------------------------------------------------------------------------------------


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="Requête SQL (dialecte DuckDB).")],
    warehouse: WarehouseOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv ou json.")] = "table",
) -> None:
    """Interroger l'entrepôt en SQL (tables raw.<table>, raw.rejections...)."""
    import duckdb

    if format not in ("table", "csv", "json"):
        raise fail(f"format inconnu {format!r} : choisir table, csv ou json")
    store = Warehouse.at(warehouse)
    if not store.exists():
        raise fail(f"aucun entrepôt dans {store.root} : lancez d'abord `datadsn ingest`")
    with store.connect() as con:
        try:
            result = con.execute(query)
        except duckdb.Error as exc:
            raise fail(f"requête invalide : {exc}") from None
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


# --- norm ---------------------------------------------------------------------------------------


@norm_app.command("show")
def norm_show(
    rubrique: Annotated[
        str, typer.Argument(help="Rubrique (S21.G00.40.007) ou bloc (S21.G00.40).")
    ],
    version: Annotated[str, typer.Option(help="Version de la norme.")] = "P26V01",
) -> None:
    """Afficher une rubrique (format, liste de codes) ou un bloc (rubriques)."""
    from datadsn.norm import available_versions, load_norm

    if version not in available_versions():
        raise fail(
            f"version {version!r} non livrée ; disponibles : {', '.join(available_versions())}"
        )
    norm = load_norm(version)
    if rubrique in norm.blocks:
        block = norm.blocks[rubrique]
        table = Table(title=f"{block.id} {block.name} (table {block.table})")
        table.add_column("rubrique")
        table.add_column("libellé")
        table.add_column("colonne")
        table.add_column("type")
        for r in norm.block_rubriques(block.id):
            table.add_row(r.id, r.name, r.column, r.sql)
        console.print(f"Parent : {block.parent or '-'}  Cardinalité : {block.min}..{block.max}")
        console.print(table)
        return
    if rubrique not in norm.rubriques:
        raise fail(f"rubrique {rubrique!r} absente de la norme {version}")
    r = norm.rubriques[rubrique]
    block = norm.blocks[r.block]
    console.print(f"[bold]{r.id}[/] {r.name}")
    console.print(f"Bloc : {block.id} {block.name} -> table raw.{block.table}, colonne {r.column}")
    bounds = f"{r.min_len}-{r.max_len}" if r.min_len != r.max_len else str(r.max_len)
    console.print(f"Type : {r.nature} {r.datatype}, longueur {bounds}, stocké en {r.sql}")
    if r.regexp:
        console.print(f"Format : {r.regexp}", markup=False)
    if r.codes:
        table = Table(title=f"Liste de codes {r.datatype} ({len(r.codes)})")
        table.add_column("code")
        table.add_column("libellé")
        for code, label in r.codes.items():
            table.add_row(code, label)
        console.print(table)


@norm_app.command("generate")
def norm_generate(
    workbooks: Annotated[
        list[Path], typer.Argument(help="Classeurs officiels dsn-datatypes-*.xlsx.")
    ],
) -> None:
    """Régénérer le catalogue livré à partir des classeurs officiels de la norme."""
    try:
        from datadsn.norm.generate import generate
    except ImportError:
        raise fail("installez l'extra normgen (openpyxl) pour régénérer le catalogue") from None
    for path in workbooks:
        if not path.exists():
            raise fail(f"{path} : fichier introuvable")
    for written in generate(workbooks):
        console.print(f"écrit : {written}")


# --- bench --------------------------------------------------------------------------------------


@bench_app.command("ingest")
def bench_ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Fichiers à lire (défaut : DSN simulées).")
    ] = None,
    size_mb: Annotated[float, typer.Option(help="Volume de DSN simulées à générer (Mo).")] = 200.0,
    workers: Annotated[int | None, typer.Option(help="Fils de calcul parallèles.")] = None,
    repeat: Annotated[int, typer.Option(help="Nombre de mesures (médiane).")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
    large_file_mb: Annotated[
        float | None,
        typer.Option(
            help="Mesurer plutôt un fichier DSN unique de cette taille (Mo) et une bombe gzip "
            "de 1 Gio, chacun dans un processus : mémoire de pointe et débit."
        ),
    ] = None,
) -> None:
    """Mesurer le débit de l'ingestion (texte DSN -> Parquet écrit) et la mémoire de pointe."""
    from datadsn.bench import bench_ingest as run
    from datadsn.bench import bench_large_files

    if large_file_mb is not None:
        figures = bench_large_files(large_file_mb, log=err.print)
    else:
        figures = run(paths or [], size_mb=size_mb, workers=workers, repeat=repeat, log=err.print)
    if json_out:
        print(json.dumps(figures, indent=2))
    else:
        table = Table(title="Banc d'essai : ingestion")
        table.add_column("mesure")
        table.add_column("valeur", justify="right")
        for key, value in figures.items():
            table.add_row(key, str(value))
        console.print(table)


@bench_app.command("consolidate")
def bench_consolidate(
    employees: Annotated[int, typer.Option(help="Effectif simulé.")] = 20_000,
    months: Annotated[int, typer.Option(help="Nombre de mois consolidés.")] = 24,
    repeat: Annotated[
        int, typer.Option(help="Passages alternés du premier et du dernier mois (médianes).")
    ] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
) -> None:
    """Mesurer la consolidation : salariés-mois par seconde par étape, coût du dernier mois."""
    from datadsn.quality.bench import bench_consolidate as run

    figures = run(employees, months, repeat=repeat, show=not json_out)
    if json_out:
        print(json.dumps(figures, indent=2, default=str))


@bench_app.command("indicators")
def bench_indicators(
    employees: Annotated[int, typer.Option(help="Effectif simulé.")] = 50_000,
    months: Annotated[int, typer.Option(help="Nombre de mois.")] = 24,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
) -> None:
    """Mesurer le calcul de tout le catalogue d'indicateurs (avec le secret statistique)."""
    from datadsn.indicators.bench import bench_indicators as run

    figures = run(employees, months)
    if json_out:
        print(json.dumps(figures, indent=2, default=str))
        return
    table = Table(title="Banc d'essai : indicateurs")
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


# --- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    home: Annotated[Path, typer.Option(help="Dossier de la démonstration.")] = Path(
        ".datadsn/demo"
    ),
    employers: Annotated[int, typer.Option(help="Nombre d'employeurs simulés.")] = 300,
    months: Annotated[str, typer.Option(help="Période simulée AAAA-MM..AAAA-MM.")] = (
        "2023-01..2024-12"
    ),
) -> None:
    """Démonstration complète : simuler, ingérer, consolider et mesurer l'exactitude."""
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest as run_ingest
    from datadsn.quality.cli import consolidate_command, evaluate_command
    from datadsn.simulate import simulate

    data = home / "simulation"
    console.print(f"[bold]1. Simulation[/] de {employers} employeurs sur {months} dans {data}")
    with byte_progress("Simulation") as bar:
        task = bar.add_task("simulate", total=None)
        simulated = simulate(
            data,
            employers=employers,
            months=months,
            seed=2024,
            progress=lambda label, done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"   {simulated.files} fichiers, {simulated.bytes / 1e6:.1f} Mo, "
        f"{simulated.declarations} déclarations"
    )
    console.print("[bold]2. Ingestion[/] (clé de pseudonymisation de démonstration)")
    store = Warehouse(home / "warehouse")
    with byte_progress("Ingestion") as bar:
        task = bar.add_task("ingest", total=None)
        result = run_ingest(
            [data / "dsn"],
            store,
            Secret.from_env(demo=True),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    print_ingest_summary(result)
    last = months.split("..")[-1]
    console.print(f"[bold]3. Consolidation[/] mois par mois jusqu'à {last}")
    consolidate_command(month=None, through=last, warehouse=store.root)
    console.print("[bold]4. Exactitude[/] de la base de qualité face à la vérité du simulateur")
    evaluate_command(truth=data / "truth", as_json=False, warehouse=store.root)
    console.print(
        f'\nInterrogez l\'entrepôt : datadsn sql "SELECT count(*) FROM contrats" '
        f"--warehouse {store.root}"
    )


register_simulate(app)
register_quality(app)
register_indicators(app)
register_flows(app)
register_portal(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
