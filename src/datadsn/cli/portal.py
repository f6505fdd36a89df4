"""Typer commands for the portal: ``datadsn serve``, ``datadsn portal-demo`` and the
``datadsn portal`` group (``verify-journal``, ``remind``)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from datadsn.portal.bootstrap import setup_django


def production_problem() -> str:
    """Why the portal cannot be served outside development as configured ('' when it can)."""
    if os.environ.get("DATADSN_DEBUG", "").strip().lower() in {"1", "true", "yes", "on", "oui"}:
        return (
            "DATADSN_DEBUG est activé : le mode debug affiche le code et la configuration à "
            "tout visiteur. Retirez DATADSN_DEBUG, ou lancez « datadsn serve --dev » pour un "
            "serveur de développement local."
        )
    if not os.environ.get("DATADSN_SECRET_KEY", "").strip():
        return (
            "DATADSN_SECRET_KEY n'est pas définie : elle signe les sessions et les liens de "
            "vérification. Définissez une clé aléatoire d'au moins 50 caractères (par exemple "
            "« python -c 'import secrets; print(secrets.token_urlsafe(50))' »), ou lancez "
            "« datadsn serve --dev » pour un serveur de développement local."
        )
    return ""


def register(app: typer.Typer) -> None:
    portal_app = typer.Typer(help="Commandes d'exploitation du portail.", no_args_is_help=True)
    app.add_typer(portal_app, name="portal")

    @portal_app.command("verify-journal")
    def verify_journal() -> None:
        """Vérifie la chaîne d'empreintes du journal d'audit et ses déclencheurs d'ajout seul."""
        setup_django()
        from datadsn.portal import journal

        count, broken = journal.verify()
        if broken is not None:
            typer.echo(f"Journal altéré : {broken} ({count} événement(s) intègres avant lui).")
            raise typer.Exit(1)
        typer.echo(f"Journal intègre : {count} événement(s), chaîne d'empreintes vérifiée.")
        if count:
            # Kept outside the database, it also reveals events removed from the end of the chain.
            typer.echo(f"Dernière empreinte : {journal.last_hash()}")
        if not journal.triggers_installed():
            typer.echo(
                "Attention : les déclencheurs qui refusent la modification et la suppression "
                "des événements sont absents (appliquez les migrations)."
            )
            raise typer.Exit(1)

    @portal_app.command("remind")
    def remind(
        days: Annotated[
            list[int] | None,
            typer.Option(
                "--days",
                min=1,
                help="Jours avant la fin d'une habilitation où prévenir l'organisation "
                "(option répétable ; défaut : DATADSN_HABILITATION_REMINDER_DAYS, soit 60 et 15).",
            ),
        ] = None,
        warn_days: Annotated[
            int,
            typer.Option(
                "--warn-days",
                min=0,
                help="Relance des instructeurs pour les demandes à moins de ce nombre de jours "
                "de l'échéance de 30 jours.",
            ),
        ] = 5,
    ) -> None:
        """Envoie les rappels : fin prochaine des habilitations (une fois par seuil) et demandes
        proches de l'échéance (au plus une fois par jour). Sans effet si rien n'est dû."""
        setup_django()
        from datadsn.portal import services

        sent = services.remind_expiring_habilitations(thresholds=days or None)
        for hab, threshold in sent:
            typer.echo(
                f"Rappel envoyé : habilitation {hab.reference} ({hab.organisation.name}), fin le "
                f"{hab.end_date:%d/%m/%Y} (seuil de {threshold} jours)."
            )
        typer.echo(f"{len(sent)} rappel(s) de fin d'habilitation envoyé(s).")
        due = services.send_reminders(warn_days=warn_days)
        typer.echo(f"{len(due)} demande(s) relancée(s) auprès des instructeurs.")

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="Adresse d'écoute.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port d'écoute.")] = 8000,
        dev: Annotated[
            bool,
            typer.Option(
                "--dev/--prod",
                help="--dev : serveur de développement Django (mode debug, clé secrète "
                "aléatoire gardée dans DATADSN_HOME) ; par défaut (--prod) : gunicorn (processus "
                "et fils, connexions persistantes), fichiers statiques par WhiteNoise, "
                "DATADSN_SECRET_KEY obligatoire et mode debug refusé.",
            ),
        ] = False,
        workers: Annotated[
            int | None,
            typer.Option("--workers", min=1, help="Processus (défaut : cœurs + 1)."),
        ] = None,
        threads: Annotated[int, typer.Option("--threads", min=1, help="Fils par processus.")] = 8,
        access_log: Annotated[
            bool, typer.Option("--access-log", help="Journal des accès sur la sortie standard.")
        ] = False,
    ) -> None:
        """Lance le portail DataDSN (applique les migrations d'abord)."""
        if not dev:
            problem = production_problem()
            if problem:
                typer.echo(f"Erreur : {problem}", err=True)
                raise typer.Exit(2)
        setup_django(debug=dev)
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        typer.echo(f"Portail DataDSN : http://{host}:{port}/")
        if dev:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
            return
        from datadsn.portal import server

        server.run(host, port, workers or server.default_workers(), threads, access_log)

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
            "Données de démonstration créées. Lancez « datadsn serve --dev » puis "
            "connectez-vous sur"
        )
        typer.echo("http://127.0.0.1:8000/compte/connexion/ avec l'un de ces comptes :")
        for role, email in users:
            typer.echo(f"  {role:<32} {email}")
        typer.echo(f"Mot de passe (tous les comptes) : {DEMO_PASSWORD}")
