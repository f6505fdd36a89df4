"""``datadsn bench``: the benchmarks (their code is in ``datadsn.bench``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import EngineOpt, MasterOpt, console, err
from .errors import UsageError

bench_app = typer.Typer(help="Mesures de performance.", no_args_is_help=True)


def _show(title: str, figures: dict, json_out: bool) -> None:
    """The figures in JSON on stdout, or as a table."""
    if json_out:
        print(json.dumps(figures, indent=2, default=str))
        return
    table = Table(title=title)
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    console.print(table)


@bench_app.command("ingest")
def bench_ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Fichiers à lire (défaut : DSN simulées).")
    ] = None,
    size_mb: Annotated[float, typer.Option(help="Volume de DSN simulées à générer (Mo).")] = 200.0,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Fils de calcul parallèles (au moins 1).")
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Nombre de mesures (médiane).")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
    large_file_mb: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Mesurer plutôt un fichier DSN unique de cette taille (Mo) et une bombe gzip "
            "de 1 Gio, chacun dans un processus : mémoire de pointe et débit.",
        ),
    ] = None,
) -> None:
    """Mesurer le débit de l'ingestion (texte DSN -> Parquet écrit) et la mémoire de pointe."""
    from datadsn.bench.ingest import bench_ingest as run
    from datadsn.bench.ingest import bench_large_files

    if large_file_mb is not None:
        figures = bench_large_files(large_file_mb, log=err.print)
    else:
        figures = run(paths or [], size_mb=size_mb, workers=workers, repeat=repeat, log=err.print)
    _show("Banc d'essai : ingestion", figures, json_out)


@bench_app.command("consolidate")
def bench_consolidate(
    employees: Annotated[
        int | None, typer.Option(min=1, help="Effectif simulé (défaut : 20 000).")
    ] = None,
    employers: Annotated[
        int | None,
        typer.Option(min=1, help="Nombre d'employeurs simulés (comme `datadsn simulate`)."),
    ] = None,
    months: Annotated[int, typer.Option(min=1, help="Nombre de mois consolidés.")] = 24,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Chaque mois dans son propre processus `datadsn consolidate --month`, comme "
            "l'exploitation mensuelle : CPU par salarié-mois, mémoire de pointe et profil.",
        ),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Avec --fresh : dossier src d'une autre version du code, dont la commande est "
            "mesurée en alternance sur les mêmes données (rapports de médianes).",
        ),
    ] = None,
    repeat: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Passages alternés du premier et du dernier mois (médianes ; défaut 3) ; avec "
            "--fresh, passages de chaque mois (défaut 1).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Mesurer la consolidation : salariés-mois par seconde par étape, coût du dernier mois."""
    from datadsn.engine.backends import engine_name

    engine_name(engine)  # an unknown engine fails before the simulation, not after
    if baseline is not None and not fresh:
        raise UsageError("--baseline ne s'emploie qu'avec --fresh")
    if baseline is not None and not (baseline / "datadsn").is_dir():
        raise UsageError(f"{baseline} n'est pas un dossier src de DataDSN (pas de datadsn/)")
    if fresh:
        from datadsn.bench.fresh import bench_fresh

        figures = bench_fresh(
            employers,
            employees if employees or employers else 20_000,
            months,
            repeat=repeat or 1,
            baseline=baseline.absolute() if baseline else None,
            show=not json_out,
            engine=engine,
            master=master,
        )
    else:
        from datadsn.bench.consolidate import bench_consolidate as run

        if employers is not None:
            raise UsageError("--employers ne s'emploie qu'avec --fresh (sinon : --employees)")
        figures = run(
            employees or 20_000,
            months,
            repeat=repeat or 3,
            show=not json_out,
            engine=engine,
            master=master,
        )
    if json_out:
        print(json.dumps(figures, indent=2, default=str))


@bench_app.command("indicators")
def bench_indicators(
    employees: Annotated[int, typer.Option(min=1, help="Effectif simulé.")] = 50_000,
    months: Annotated[int, typer.Option(min=1, help="Nombre de mois.")] = 24,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
) -> None:
    """Mesurer le calcul de tout le catalogue d'indicateurs (avec le secret statistique)."""
    from datadsn.bench.indicators import bench_indicators as run

    figures = run(employees, months)
    _show("Banc d'essai : indicateurs", figures, json_out)


@bench_app.command("release")
def bench_release(
    employees: Annotated[int, typer.Option(min=1, help="Effectif simulé.")] = 400,
    months: Annotated[int, typer.Option(min=1, help="Nombre de mois.")] = 6,
    repeat: Annotated[int, typer.Option(min=1, help="Nombre d'essais (médiane).")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
) -> None:
    """Mesurer la publication mensuelle (secret secondaire conjoint et audit compris)."""
    from datadsn.bench.indicators import bench_release as run

    figures = run(employees, months, repeat)
    _show("Banc d'essai : publication mensuelle", figures, json_out)


@bench_app.command("portal")
def bench_portal(
    clients: Annotated[int, typer.Option(min=1, help="Clients simultanés.")] = 50,
    requests: Annotated[int, typer.Option(min=1, help="Requêtes par page mesurée.")] = 1000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processus du serveur (défaut : cœurs + 1).")
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="Fils par processus du serveur.")] = 8,
    json_out: Annotated[bool, typer.Option("--json", help="Résultat en JSON.")] = False,
) -> None:
    """Mesurer le portail servi par « datadsn serve --prod » : p50 et p95 de l'accueil, du
    catalogue, d'une demande (connecté) et de l'API sous des clients simultanés (SQLite de
    démonstration, ou la base de DATABASE_URL)."""
    from datadsn.bench.portal import bench_portal as run

    figures = run(clients, requests, workers=workers, threads=threads, log=err.print)
    _show("Banc d'essai : portail", figures, json_out)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the datadsn command line."""
    app.add_typer(bench_app, name="bench")
