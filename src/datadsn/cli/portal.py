"""Typer commands for the portal: ``datadsn serve`` and ``datadsn portal-demo``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from datadsn.portal.bootstrap import setup_django


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="Adresse d'écoute.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port d'écoute.")] = 8000,
        dev: Annotated[
            bool,
            typer.Option(
                "--dev/--prod",
                help="--dev : serveur de développement Django (rechargement, mode debug) ; "
                "--prod : serveur WSGI multi-fils, DATADSN_SECRET_KEY obligatoire.",
            ),
        ] = True,
    ) -> None:
        """Lance le portail DataDSN (applique les migrations d'abord)."""
        setup_django(debug=dev)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        typer.echo(f"Portail DataDSN : http://{host}:{port}/")
        if dev:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
            return
        from socketserver import ThreadingMixIn
        from wsgiref.simple_server import WSGIServer, make_server

        from django.core.wsgi import get_wsgi_application

        class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        server = make_server(host, port, get_wsgi_application(), server_class=ThreadingWSGIServer)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.shutdown()

    @app.command("portal-demo")
    def portal_demo() -> None:
        """Crée les données de démonstration du portail et affiche les comptes de connexion."""
        os.environ.setdefault("DATADSN_DEBUG", "1")
        setup_django()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        from datadsn.portal.demo import DEMO_PASSWORD, seed

        users = seed()
        typer.echo(
            "Données de démonstration créées. Lancez « datadsn serve » puis connectez-vous sur"
        )
        typer.echo("http://127.0.0.1:8000/compte/connexion/ avec l'un de ces comptes :")
        for role, email in users:
            typer.echo(f"  {role:<32} {email}")
        typer.echo(f"Mot de passe (tous les comptes) : {DEMO_PASSWORD}")
