"""``datadsn norm``: the NEODES norm catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import console
from .errors import UsageError

norm_app = typer.Typer(help="Catalogue de la norme NEODES.", no_args_is_help=True)


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
        raise UsageError(
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
        raise UsageError(f"rubrique {rubrique!r} absente de la norme {version}")
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
        raise UsageError(
            "installez l'extra normgen (openpyxl) pour régénérer le catalogue"
        ) from None
    for path in workbooks:
        if not path.exists():
            raise UsageError(f"{path} : fichier introuvable")
    for written in generate(workbooks):
        console.print(f"écrit : {written}")


def register(app: typer.Typer) -> None:
    """Add the ``norm`` group to the datadsn command line."""
    app.add_typer(norm_app, name="norm")
