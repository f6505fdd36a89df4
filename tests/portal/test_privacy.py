"""Issue 19, S8: private pages are never cached, registration does not reveal accounts, API
tokens expire and can be listed and revoked, ``testserver`` is not an allowed host."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from datadsn.portal.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_private_pages_are_not_stored_by_caches(world: Any) -> None:
    c = Client()
    c.force_login(world.users["req_a"])
    for url in (
        "/tableau-de-bord/",
        "/habilitations/",
        f"/habilitations/{world.hab_a.pk}/",
        "/livraisons/",
        f"/demandes/{world.req['submitted_a'].pk}/",
        "/",  # public page, but it names the signed-in user
    ):
        assert "no-store" in c.get(url).get("Cache-Control", ""), url
    staff = Client()
    staff.force_login(world.users["instructor"])
    for url in ("/journal/", "/comite/", f"/comite/{world.session.pk}/"):
        assert "no-store" in staff.get(url).get("Cache-Control", ""), url
    assert "no-store" not in Client().get("/cas-usage/").get("Cache-Control", "")


def _registration(email: str) -> dict[str, str]:
    return {
        "first_name": "Jeanne",
        "last_name": "Durand",
        "email": email,
        "password": "un-mot-de-passe-solide",
        "siret": "73282932000074",
        "organisation_name": "Ville exemple",
        "actor_type": "collectivite",
    }


def test_registration_does_not_reveal_existing_addresses(world: Any, mailbox: Any) -> None:
    taken = world.users["req_a"].email
    again = Client().post("/compte/inscription/", _registration(taken.upper()))
    fresh = Client().post("/compte/inscription/", _registration("libre@ville.example"))
    assert again.status_code == fresh.status_code == 200
    assert "existe déjà" not in again.content.decode()
    same = again.content.decode().replace(taken, "X")
    assert same == fresh.content.decode().replace("libre@ville.example", "X")
    assert User.objects.filter(email__iexact=taken).count() == 1
    [msg] = [m for m in mailbox.to(taken) if "Tentative" in str(m["Subject"])]
    assert "aucun compte n'a été créé" in mailbox.body(msg)


def test_api_tokens_expire_and_can_be_listed_and_revoked(world: Any, settings: Any) -> None:
    user = world.users["req_a"]
    page = Client()
    page.force_login(user)
    page.post("/compte/jeton-api/", {"name": "script de suivi"})
    key = ApiToken.issue(user)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    assert api.get("/api/demandes").status_code == 200
    listing = page.get("/compte/jeton-api/").content.decode()
    assert "script de suivi" in listing and "Révoquer" in listing
    token = ApiToken.objects.get(digest=ApiToken.hash(key))
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() > timedelta(days=settings.API_TOKEN_DAYS - 1)
    # Someone else cannot revoke it.
    other = Client()
    other.force_login(world.users["req_b"])
    assert (
        other.post("/compte/jeton-api/", {"op": "revoquer", "token": token.pk}).status_code == 404
    )
    assert api.get("/api/demandes").status_code == 200
    page.post("/compte/jeton-api/", {"op": "revoquer", "token": token.pk})
    assert api.get("/api/demandes").status_code == 401
    # A token past its expiry no longer opens anything.
    old = ApiToken.issue(user)
    ApiToken.objects.filter(digest=ApiToken.hash(old)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert (
        Client(headers={"Authorization": f"Bearer {old}"}).get("/api/demandes").status_code == 401
    )


def test_testserver_is_not_a_default_allowed_host(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATADSN_", "DJANGO_"))}
    env.update(DATADSN_SECRET_KEY="k" * 50, DATADSN_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", "import datadsn.portal.settings as s; print(s.ALLOWED_HOSTS)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "localhost" in out and "testserver" not in out
