from typing import Any

from django.core.management.base import BaseCommand

from datadsn.portal.demo import DEMO_PASSWORD, seed


class Command(BaseCommand):
    help = "Crée les données de démonstration du portail."

    def handle(self, *args: Any, **options: Any) -> None:
        users = seed()
        self.stdout.write(f"Mot de passe de démonstration : {DEMO_PASSWORD}")
        for role, email in users:
            self.stdout.write(f"  {role:<32} {email}")
