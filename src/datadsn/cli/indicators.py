"""The ``indicators`` command group (``register(app)``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from datadsn.indicators.catalogue import CATALOGUE, DIMENSIONS, UnknownIndicator, get

from . import common
from .common import EngineOpt, MasterOpt, WarehouseOpt, console, err
from .errors import CommandError

if TYPE_CHECKING:
    from datadsn.engine.warehouse import Warehouse

RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules", help="Règles de secret (TOML) ; défaut : 5 salariés, 3 établissements, 85 %."
    ),
]

group = typer.Typer(
    help="Indicateurs sous secret statistique et extraits pseudonymisés.", no_args_is_help=True
)


def _fail(message: str, code: int = 2) -> None:
    raise CommandError(message, code)


@group.command("list")
def list_command() -> None:
    """Lister les indicateurs du catalogue."""
    table = Table(title="Catalogue des indicateurs")
    for column in ("code", "titre", "unité", "agrégation"):
        table.add_column(column)
    for ind in CATALOGUE:
        table.add_row(ind.code, ind.titre, ind.unite, ind.agregation)
    console.print(table)


@group.command("show")
def show_command(code: Annotated[str, typer.Argument(help="Code de l'indicateur.")]) -> None:
    """Afficher la définition, les dimensions et les précautions d'un indicateur."""
    try:
        ind = get(code)
    except UnknownIndicator as exc:
        _fail(str(exc.args[0]))
        return
    console.print(f"[bold]{ind.code}[/] — {ind.titre}")
    console.print(f"Définition : {ind.definition}")
    console.print(f"Unité : {ind.unite} ; agrégation sur une période : {ind.agregation}")
    console.print(f"Périodicités : {', '.join(ind.periodicite)}")
    console.print(f"Sources : {', '.join(ind.sources)}")
    console.print("Dimensions :")
    for dim in ind.dimensions:
        console.print(f"  {dim} : {DIMENSIONS[dim]}")
    for caveat in ind.precautions:
        console.print(f"Précaution : {caveat}")
    console.print(f"SQL : {ind.sql_path.name}")


@group.command("compute")
def compute_command(
    codes: Annotated[list[str], typer.Argument(help="Codes des indicateurs.")],
    by: Annotated[str, typer.Option("--by", help="Dimensions séparées par des virgules.")] = "",
    start: Annotated[str, typer.Option("--from", help="Premier mois (AAAA-MM).")] = "",
    end: Annotated[str, typer.Option("--to", help="Dernier mois (AAAA-MM).")] = "",
    out: Annotated[
        Path, typer.Option("--out", help="Fichier produit (.csv, .parquet, .xlsx).")
    ] = Path("indicateurs.csv"),
    period: Annotated[str, typer.Option("--period", help="mois, trimestre ou annee.")] = "mois",
    rules: RulesOpt = None,
    warehouse: WarehouseOpt = None,
    chart: Annotated[
        bool, typer.Option("--chart/--no-chart", help="Produire aussi le graphique.")
    ] = True,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Calculer des indicateurs, appliquer le secret statistique et écrire les fichiers."""
    from datadsn.indicators.compute import IndicatorError, open_session, precompute_cells
    from datadsn.indicators.publish import joint_dims, publish
    from datadsn.indicators.release import ReleaseError
    from datadsn.indicators.rules import Rules, RulesError
    from datadsn.indicators.suppression import Ledger

    if not start or not end:
        _fail("indiquez --from AAAA-MM et --to AAAA-MM")
    out = common.output_file(out, "--out")
    dims = [d.strip() for d in by.split(",") if d.strip()]
    try:
        indicators = [get(c) for c in codes]
        loaded = Rules.load(rules)
        session = open_session(common.warehouse(warehouse).root, engine=engine, master=master)
        ledger = Ledger(session.store.root)
    except (UnknownIndicator, RulesError, IndicatorError) as exc:
        _fail(str(exc.args[0]) if isinstance(exc, UnknownIndicator) else str(exc))
        return
    table = Table(title="Indicateurs produits")
    for column in ("indicateur", "fichier", "cases", "secret primaire", "secret secondaire"):
        table.add_column(column)
    try:
        if len(indicators) > 1:
            requests = [(ind, joint_dims(ind, dims or list(ind.par_defaut))) for ind in indicators]
            precompute_cells(session, requests, start, end, period)
        for ind in indicators:
            target = (
                out
                if len(indicators) == 1
                else out.with_name(f"{out.stem}_{ind.code.lower()}{out.suffix}")
            )
            done = publish(session, ind, dims or list(ind.par_defaut), start, end, period,
                           loaded, target, chart=chart, ledger=ledger)  # fmt: skip
            table.add_row(ind.code, str(done.path), str(done.cells), str(done.primary),
                          str(done.secondary))  # fmt: skip
    except (IndicatorError, ReleaseError) as exc:
        _fail(str(exc))
    finally:
        session.close()
    console.print(table)


@group.command("release")
def release_command(
    month: Annotated[str, typer.Option("--month", help="Mois publié (AAAA-MM).")],
    rules: RulesOpt = None,
    warehouse: WarehouseOpt = None,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Publier les indicateurs du catalogue sur les 24 derniers mois, sous secret conjoint et
    après l'audit d'un attaquant, comme nouvelle version de la publication du mois."""
    from datadsn.indicators.compute import open_session
    from datadsn.indicators.public import release
    from datadsn.indicators.rules import Rules

    loaded = Rules.load(rules)
    store = common.warehouse(warehouse)
    session = open_session(store.root, engine=engine, master=master)
    try:
        done = release(session, store.root, month, loaded)
    finally:
        session.close()
    meta = done.publication.meta
    console.print(
        f"Publication {meta['mois']} version {meta['version']} ({meta['du']} à {meta['au']}) : "
        f"{len(meta['indicateurs'])} indicateurs, {done.cells} cases dont {done.masked} "
        f"masquées, aucune recalculable ; {done.publication.folder.parent / meta['mois']}"
    )


@group.command("audit")
def audit_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Fichiers diffusés à vérifier ; plusieurs : aussi l'attaque qui les combine."
        ),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            "-w",
            help="Entrepôt pour recalculer les cases, ou des livraisons et publications à "
            "attaquer (--habilitation, --toutes).",
        ),
    ] = None,
    habilitation: Annotated[
        str,
        typer.Option(
            "--habilitation",
            help="Attaquer tout ce qui a été livré à cette habilitation, avec les publications.",
        ),
    ] = "",
    everyone: Annotated[
        bool,
        typer.Option(
            "--toutes", help="Attaquer tout ce qui a été livré à toutes les habilitations réunies."
        ),
    ] = False,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Revérifier des fichiers diffusés contre les règles de leurs métadonnées, puis les
    attaquer ensemble comme le ferait quelqu'un qui les détient tous."""
    from datadsn.indicators.audit import attack, audit
    from datadsn.indicators.compute import IndicatorError, open_session

    files = files or []
    if not files and not habilitation and not everyone:
        _fail("indiquez des fichiers, --habilitation H ou --toutes")
    if habilitation or everyone:
        _holder_audit(common.warehouse(warehouse), habilitation, everyone)
        if not files:
            return
    session = None
    if warehouse is not None:
        try:
            session = open_session(common.warehouse(warehouse).root, engine=engine, master=master)
        except IndicatorError as exc:
            _fail(str(exc))
    failed = False
    for file in files:
        problems = audit(file, session)
        failed |= bool(problems)
        for problem in problems:
            err.print(f"[red]✗[/] {file} : {problem}")
        if not problems:
            console.print(f"[green]✓[/] {file} : conforme aux règles de ses métadonnées")
    if session is not None:
        session.close()
    if len(files) > 1:
        combined = attack(files)
        failed |= bool(combined)
        for problem in combined:
            err.print(f"[red]✗[/] {problem}")
        if not combined:
            console.print(
                f"[green]✓[/] {len(files)} fichiers combinés : aucune case masquée recalculable"
            )
    if failed:
        raise typer.Exit(1)


def _holder_audit(store: Warehouse, habilitation: str, everyone: bool) -> None:
    """Everything delivered to ``habilitation`` (or to all) and the public releases, attacked
    together; exits 1 naming every cell pinned narrower than its protection interval."""
    from datadsn.flows.adapter import holdings
    from datadsn.indicators.attacker import attack

    held = holdings(store, None if everyone else [habilitation])
    who = "toutes les habilitations réunies" if everyone else f"l'habilitation {habilitation}"
    pinned = attack(held)
    for problem in pinned:
        err.print(f"[red]✗[/] {problem}")
    if pinned:
        err.print(f"{len(pinned)} case(s) masquée(s) recalculable(s) par {who}")
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] {len(held)} tableaux détenus par {who} (publications comprises) : "
        "aucune case masquée encadrée plus étroitement que son intervalle de protection"
    )


@group.command("extract")
def extract_command(
    start: Annotated[str, typer.Option("--from", help="Premier mois (AAAA-MM).")],
    end: Annotated[str, typer.Option("--to", help="Dernier mois (AAAA-MM).")],
    out: Annotated[Path, typer.Option("--out", help="Fichier produit (.parquet ou .csv).")],
    recipient: Annotated[str, typer.Option("--recipient", help="Nom du destinataire.")],
    key_env: Annotated[
        str,
        typer.Option("--key-env", help="Variable d'environnement de la clé du destinataire."),
    ] = "DATADSN_CLE_DESTINATAIRE",
    naf: Annotated[str, typer.Option("--naf", help="Préfixes de sous-classe NAF.")] = "",
    departements: Annotated[str, typer.Option("--departments", help="Départements.")] = "",
    naf_level: Annotated[
        str, typer.Option("--naf-level", help="naf_section, naf_a38 ou naf_a88.")
    ] = "naf_section",
    geo_level: Annotated[
        str, typer.Option("--geo-level", help="departement ou region.")
    ] = "region",
    age_level: Annotated[
        str, typer.Option("--age-level", help="tranche_age ou tranche_age_large.")
    ] = "tranche_age_large",
    suppress: Annotated[
        bool,
        typer.Option(
            "--suppress-rare",
            help="Retirer les classes sous k ou l (dans la limite de suppression_max_pct).",
        ),
    ] = False,
    rules: RulesOpt = None,
    warehouse: WarehouseOpt = None,
    engine: EngineOpt = None,
    master: MasterOpt = None,
) -> None:
    """Produire un extrait pseudonymisé (contrat × mois) si k et l sont atteints."""
    from datadsn.indicators.compute import IndicatorError, open_session
    from datadsn.indicators.extract import (
        ExtractRefused,
        ExtractRequest,
        build,
        check,
        suppress_rare,
        write,
    )
    from datadsn.indicators.rules import Rules, RulesError

    out = common.output_file(out, "--out")
    key = os.environ.get(key_env, "")
    if len(key) < 16:
        _fail(f"clé du destinataire absente ou trop courte (≥ 16 caractères) dans ${key_env}")
    request = ExtractRequest(
        start, end, recipient, key.encode("utf-8"), naf_level, geo_level, age_level,
        [x for x in naf.split(",") if x], [x for x in departements.split(",") if x],
    )  # fmt: skip
    try:
        loaded = Rules.load(rules)
        session = open_session(common.warehouse(warehouse).root, engine=engine, master=master)
        data = build(session, request, loaded)
        dropped = 0.0
        if suppress:
            data, dropped = suppress_rare(data, loaded)
        result = check(data, loaded)
    except ExtractRefused as exc:
        _fail(str(exc), code=1)
        return
    except (RulesError, IndicatorError, ValueError) as exc:
        _fail(str(exc))
        return
    write(data, request, loaded, result, out)
    session.close()
    console.print(
        f"Extrait écrit : {out} ({data.height} lignes, k = {result.k}, l = {result.l}, "
        f"salariés retirés : {dropped:.1f} %)"
    )


@group.command("refresh-references")
def refresh_command() -> None:
    """Régénérer les listes de codes issues de la norme (natures, motifs, unités...)."""
    from datadsn.indicators.references import refresh

    path = refresh()
    console.print(f"Listes de codes régénérées : {path}")


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` group to the main application."""
    app.add_typer(group, name="indicators")
