from typing import Any

from django.core.management.base import BaseCommand

from datadsn.portal.services import send_reminders


class Command(BaseCommand):
    help = "Relance par courriel les instructeurs pour les demandes proches ou au-delà de 30 jours."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--jours", type=int, default=5, help="Seuil d'alerte en jours restants."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        due = send_reminders(warn_days=options["jours"])
        self.stdout.write(f"{len(due)} demande(s) relancée(s).")
