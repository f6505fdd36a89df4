"""``datadsn demo``: simulate, ingest, consolidate, measure the accuracy and publish the
indicators in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import common
from .common import byte_progress, console
from .ingest import print_ingest_summary


def demo(
    home: Annotated[Path, typer.Option(help="Dossier de la démonstration.")] = Path(
        ".datadsn/demo"
    ),
    employers: Annotated[int, typer.Option(min=1, help="Nombre d'employeurs simulés.")] = 300,
    months: Annotated[str, typer.Option(help="Période simulée AAAA-MM..AAAA-MM.")] = (
        "2023-01..2024-12"
    ),
) -> None:
    """Démonstration complète : simuler, ingérer, consolider, mesurer l'exactitude et publier
    les indicateurs."""
    from datadsn import months as month_list
    from datadsn.engine.warehouse import Warehouse
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest as run_ingest
    from datadsn.simulate import simulate

    from .indicators import release_command
    from .quality import consolidate_command, evaluate_command

    _, last = month_list.parse_range(months)
    home = common.folder(home, "--home")

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
    console.print(f"[bold]3. Consolidation[/] mois par mois jusqu'à {last}")
    consolidate_command(month=None, through=last, warehouse=store.root)
    console.print("[bold]4. Exactitude[/] de la base de qualité face à la vérité du simulateur")
    evaluate_command(truth=data / "truth", as_json=False, warehouse=store.root)
    console.print(f"[bold]5. Publication[/] des indicateurs des 24 mois jusqu'à {last}")
    release_command(month=last, rules=None, warehouse=store.root)
    console.print(
        f'\nInterrogez l\'entrepôt : datadsn sql "SELECT count(*) FROM contrats" '
        f"--warehouse {store.root}"
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the datadsn command line."""
    app.command("demo")(demo)
