"""The ``datadsn`` command line: one verb per stage, one error boundary.

Layout: ``errors`` (the boundary: an expected failure is one French line and exit 1 or 2),
``common`` (consoles, the warehouse option, checks run before writing), then one module per verb
group, each with ``register(app)``: ``ingest`` (ingest, sql), ``norm``, ``simulate``, ``quality``
(consolidate, evaluate), ``indicators``, ``flows``, ``portal`` (serve, portal-demo), ``bench``,
``demo``. The stages keep their logic; these modules parse options and print.
"""

from __future__ import annotations

import sys

from datadsn.allocators import keep_freed_memory
from datadsn.ingest.worker import prestart

# Before the imports below load Polars: its allocator's setting, and the helper processes of a
# large ingestion, which import Polars and Arrow while this process imports the rest. The global
# --debug option comes before the verb: prestart looks past it.
keep_freed_memory()
prestart([arg for arg in sys.argv if arg != "--debug"])

from typing import Annotated  # noqa: E402

import typer  # noqa: E402

from . import bench, demo, flows, indicators, ingest, norm, portal, quality, simulate  # noqa: E402
from .errors import DEBUG_ENV, DEBUG_KEY, BoundaryGroup  # noqa: E402

app = typer.Typer(
    cls=BoundaryGroup,
    help="DataDSN : ingestion, mise en qualité et diffusion des données DSN.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help=f"Afficher la trace complète d'une erreur (ou {DEBUG_ENV}=1).",
        ),
    ] = False,
) -> None:
    """DataDSN : ingestion, mise en qualité et diffusion des données DSN."""
    ctx.meta[DEBUG_KEY] = debug


for module in (ingest, norm, simulate, quality, indicators, flows, portal, bench, demo):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
