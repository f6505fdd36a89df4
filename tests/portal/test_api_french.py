"""Issue 19, journeys: the API answers its errors in French (django-ninja's are English)."""

from __future__ import annotations

from django.test import Client

from datadsn.portal.models import ApiToken

from .conftest import World

ENGLISH = ("Unauthorized", "Not Found", "Input should", "Forbidden", "Too many")


def _french(body: bytes) -> str:
    text = body.decode()
    assert not any(word in text for word in ENGLISH), text
    return text


def test_api_errors_are_in_french(world: World) -> None:
    anon = Client()
    for url in ("/api/demandes", "/api/habilitations/1"):
        r = anon.get(url)
        assert r.status_code == 401
        assert "Authentification requise" in _french(r.content)
    assert anon.get("/api/cas-usage/inconnu").json() == {"detail": "Introuvable."}

    c = Client(headers={"Authorization": f"Bearer {ApiToken.issue(world.users['req_a'])}"})
    missing = c.get("/api/demandes/999999")
    assert missing.status_code == 404 and "Introuvable" in _french(missing.content)
    bad = c.get("/api/demandes/abc")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["msg"] == "chemin « pk » doit être un nombre entier."
    _french(bad.content)
