"""``datadsn flow``: validate a spec, run flows after consolidation, the template gallery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from . import common
from .common import EngineOpt, MasterOpt, WarehouseOpt, console, err
from .errors import CommandError

if TYPE_CHECKING:  # the flow machinery (indicators, SciPy) loads only when a command runs
    from datadsn.flows.habilitation import HabInfo

group = typer.Typer(
    help="Flux : cas d'usage habilités livrés chaque mois, sans nouveau code.",
    no_args_is_help=True,
)

# How a habilitation is found (the portal database by default); tests may replace it.
lookup: Callable[[str], HabInfo] | None = None


def _find(reference: str) -> HabInfo:
    if lookup is not None:
        return lookup(reference)
    from datadsn.flows.habilitation import portal_habilitation

    try:
        return portal_habilitation(reference)
    except LookupError:
        raise
    except Exception as exc:  # no portal database here: say so instead of a traceback
        raise LookupError(
            f"portail injoignable pour lire {reference} ({exc}) ; lancez « datadsn serve » une "
            "fois pour créer sa base, ou utilisez --no-portal"
        ) from exc


def _fail(message: str, code: int = 2) -> CommandError:
    return CommandError(message, code)


@group.command("validate")
def validate_command(
    spec_path: Annotated[Path, typer.Argument(help="Spécification du flux (YAML).")],
    portal: Annotated[
        bool,
        typer.Option(
            "--portal/--no-portal",
            help="Vérifier aussi l'habilitation et son périmètre dans le portail.",
        ),
    ] = True,
) -> None:
    """Vérifier une spécification de flux et expliquer chaque erreur."""
    from datadsn.flows.habilitation import check_scope
    from datadsn.flows.spec import SpecError, load

    try:
        spec = load(spec_path)
    except SpecError as exc:
        err.print(f"[bold red]{spec_path} : {len(exc.problems)} erreur(s)[/]")
        for problem in exc.problems:
            err.print(f"  [red]✗[/] {problem}")
        raise typer.Exit(1) from None
    if portal:
        try:
            hab = _find(spec.habilitation)
        except LookupError as exc:
            raise _fail(str(exc.args[0]), 1) from None
        problems = hab.usable() + check_scope(spec, hab)
        if problems:
            err.print(f"[bold red]{spec_path} : hors du périmètre de {hab.reference}[/]")
            for problem in problems:
                err.print(f"  [red]✗[/] {problem}")
            raise typer.Exit(1)
    console.print(f"[green]✓[/] {spec_path} : spécification valide (flux {spec.nom})")


@group.command("run")
def run_command(
    spec_path: Annotated[Path | None, typer.Argument(help="Spécification du flux.")] = None,
    month: Annotated[str, typer.Option("--month", help="Mois consolidé à livrer (AAAA-MM).")] = "",
    all_specs: Annotated[
        Path | None,
        typer.Option("--all", help="Dossier de spécifications : lancer tous les flux."),
    ] = None,
    warehouse: WarehouseOpt = None,
    register_portal: Annotated[
        bool,
        typer.Option("--portal/--no-portal", help="Enregistrer la livraison dans le portail."),
    ] = True,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Produire, auditer et livrer un mois d'un ou de plusieurs flux."""
    from datadsn import months
    from datadsn.engine.backends import engine_name
    from datadsn.flows.run import RunError, run
    from datadsn.flows.spec import SpecError, load

    if not month:
        raise _fail("indiquez --month AAAA-MM")
    month = months.parse(month)
    if (spec_path is None) == (all_specs is None):
        raise _fail("indiquez une spécification ou --all DOSSIER")
    paths = [spec_path] if spec_path is not None else sorted(all_specs.glob("*.yaml"))  # type: ignore[union-attr]
    if not paths:
        raise _fail(f"aucune spécification dans {all_specs}")
    engine = engine_name(engine)
    store = common.warehouse(warehouse)
    table = Table(title=f"Flux — {month}")
    for column in ("flux", "habilitation", "statut", "fichiers", "lignes", "masquées", "durée"):
        table.add_column(column)
    failures = 0
    for path in paths:
        try:
            spec = load(path)
            hab = _find(spec.habilitation)
            result = run(spec, store, month, hab, engine=engine, master=master)
        except SpecError as exc:
            failures += 1
            err.print(f"[red]✗[/] {path} : " + " ; ".join(exc.problems))
            continue
        except (RunError, LookupError) as exc:
            failures += 1
            err.print(f"[red]✗[/] {path} : {exc}")
            continue
        labels = {"livre": "livré", "inchange": "inchangé (déjà livré)", "non_du": "non dû"}
        table.add_row(
            spec.nom, hab.reference, labels[result.status], str(len(result.files)),
            str(sum(f["lignes"] for f in result.files)), str(result.masked),
            f"{result.duration:.1f} s",
        )  # fmt: skip
        if register_portal and result.folder is not None and lookup is None:
            try:
                from datadsn.portal.deliveries import register_folder

                register_folder(result.folder)
            except Exception as exc:  # the files are delivered; the portal can catch up later
                failures += 1
                err.print(f"[yellow]![/] livraison non enregistrée dans le portail : {exc}")
    console.print(table)
    if failures:
        raise typer.Exit(1)


@group.command("purge")
def purge_command() -> None:
    """Effacer les fichiers livrés des habilitations échues ou révoquées (à lancer chaque jour)."""
    from datadsn.portal.bootstrap import setup_django

    setup_django()
    from datadsn.portal.deliveries import purge_expired

    purged = purge_expired()
    for delivery in purged:
        console.print(f"effacé : {delivery}")
    console.print(f"{len(purged)} livraison(s) effacée(s).")


@group.command("templates")
def templates_command() -> None:
    """Lister les modèles de flux de la galerie."""
    from datadsn.flows.gallery import templates

    table = Table(title="Modèles de flux")
    table.add_column("modèle")
    table.add_column("titre")
    table.add_column("description")
    for t in templates():
        table.add_row(t.name, t.title, t.description)
    console.print(table)


@group.command("new")
def new_command(
    template: Annotated[str, typer.Option("--template", help="Nom du modèle (flow templates).")],
    habilitation: Annotated[str, typer.Option("--habilitation", help="Référence, ex. H12.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Fichier à écrire (défaut : <nom>.yaml).")
    ] = None,
) -> None:
    """Créer un flux depuis un modèle, pour une habilitation acceptée et dans son périmètre."""
    from datadsn.flows.gallery import get_template, instantiate
    from datadsn.flows.habilitation import check_scope
    from datadsn.flows.spec import SpecError, parse

    try:
        tpl = get_template(template)
        hab = _find(habilitation)
    except LookupError as exc:
        raise _fail(str(exc.args[0])) from None
    problems = hab.usable()
    if problems:
        raise _fail("création impossible : " + " ".join(problems), 1)
    text, data = instantiate(tpl, hab)
    try:
        spec = parse(data)
    except SpecError as exc:
        raise _fail("le modèle ne s'applique pas : " + " ; ".join(exc.problems), 1) from None
    problems = check_scope(spec, hab)
    if problems:
        raise _fail(f"hors du périmètre de {hab.reference} : " + " ".join(problems), 1)
    target = common.output_file(out or Path(f"{spec.nom}-{hab.reference.lower()}.yaml"), "--out")
    target.write_text(text, encoding="utf-8")
    console.print(f"[green]✓[/] flux {spec.nom} créé pour {hab.reference} : {target}")


def register(app: typer.Typer) -> None:
    """Add the ``flow`` group to the main application."""
    app.add_typer(group, name="flow")
