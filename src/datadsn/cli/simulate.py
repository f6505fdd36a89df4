"""The ``datadsn simulate`` command (registered on the main Typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import common
from .errors import UsageError


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to ``app``."""

    @app.command("simulate")
    def simulate_command(
        out: Annotated[Path, typer.Option("--out", "-o", help="Dossier de sortie.")] = Path(
            ".datadsn/simulation"
        ),
        employers: Annotated[
            int | None, typer.Option("--employers", help="Nombre d'employeurs (entreprises).")
        ] = None,
        employees: Annotated[
            int | None,
            typer.Option("--employees", help="Effectif total visé (dimensionne la simulation)."),
        ] = None,
        months: Annotated[
            str, typer.Option("--months", help="Période simulée AAAA-MM..AAAA-MM.")
        ] = "2023-01..2024-12",
        seed: Annotated[int, typer.Option("--seed", help="Graine du générateur aléatoire.")] = 0,
        noise: Annotated[
            str, typer.Option("--noise", help="Profil de bruit : default, none, heavy ou hard.")
        ] = "default",
        dsnp3: Annotated[
            bool, typer.Option("--dsnp3/--no-dsnp3", help="Écrire aussi l'export CSV DSNP3.")
        ] = True,
    ) -> None:
        """Simuler une économie DSN : fichiers NEODES, export DSNP3 et vérité terrain."""
        from datadsn.simulate import simulate

        console = Console()
        problem = _check_arguments(employers, employees, months, noise)
        if problem:
            raise UsageError(problem)
        out = common.folder(out, "--out")
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("Préparation de l'économie simulée", total=None)

            def progress(label: str, done: int, total: int) -> None:
                bar.update(task, description=label, completed=done, total=total)

            result = simulate(
                out,
                employers=employers,
                employees=employees,
                months=months,
                seed=seed,
                noise=noise,
                progress=progress,
                write_dsnp3=dsnp3,
            )
        table = Table(title="Simulation terminée", show_header=False)
        table.add_column("Mesure")
        table.add_column("Valeur", justify="right")
        rate = result.employee_months / max(result.seconds, 1e-9) * 60
        for label, value in (
            ("Employeurs", f"{result.employers:,}"),
            ("Établissements", f"{result.establishments:,}"),
            ("Personnes", f"{result.persons:,}"),
            ("Contrats", f"{result.contracts:,}"),
            ("Salariés-mois", f"{result.employee_months:,}"),
            ("Fichiers DSN", f"{result.files:,}"),
            ("Déclarations", f"{result.declarations:,}"),
            ("Lignes", f"{result.lines:,}"),
            ("Volume", f"{result.bytes / 1e6:,.1f} Mo"),
            ("Anomalies injectées", f"{result.anomalies:,}"),
            ("Durée", f"{result.seconds:,.1f} s"),
            ("Débit", f"{rate:,.0f} salariés-mois/min"),
            ("Dossier", str(result.out)),
        ):
            table.add_row(label, value.replace(",", "\u202f"))
        console.print(table)


def _check_arguments(
    employers: int | None, employees: int | None, months: str, noise: str
) -> str | None:
    """A French message for the first bad argument, None when all are fine."""
    from datadsn.simulate.noise import PROFILES
    from datadsn.simulate.workdays import parse_months

    try:
        parse_months(months)
    except ValueError as exc:
        return str(exc)
    if noise not in PROFILES:
        return f"profil de bruit inconnu : {noise!r} (attendu : {', '.join(PROFILES)})"
    if employers is not None and employers < 1:
        return "--employers doit être un entier positif"
    if employees is not None and employees < 1:
        return "--employees doit être un entier positif"
    return None
