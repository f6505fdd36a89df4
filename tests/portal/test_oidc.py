"""Optional OpenID Connect login against a local fake provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from datadsn.portal.models import Event, User

pytestmark = pytest.mark.django_db

CLAIMS = {
    "email": "Agent@Ville.example",
    "given_name": "Agnès",
    "usual_name": "Roux",
    "siret": "73282932000074",
    "organizational_unit": "Ville exemple",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/.well-known/openid-configuration":
                self._send(
                    200,
                    {
                        "authorization_endpoint": base + "/authorize",
                        "token_endpoint": base + "/token",
                        "userinfo_endpoint": base + "/userinfo",
                    },
                )
            elif (
                self.path == "/userinfo"
                and self.headers.get("Authorization") == "Bearer jeton-acces"
            ):
                self._send(200, CLAIMS)
            else:
                self._send(401, {"error": "invalid_token"})

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            if form.get("code") == ["bon-code"] and form.get("client_secret") == ["secret"]:
                self._send(200, {"access_token": "jeton-acces", "token_type": "Bearer"})
            else:
                self._send(400, {"error": "invalid_grant"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def oidc_on(settings: Any, provider: str) -> str:
    from django.core.cache import cache

    cache.clear()
    settings.OIDC_ISSUER = provider
    settings.OIDC_CLIENT_ID = "datadsn"
    settings.OIDC_CLIENT_SECRET = "secret"
    return provider


def test_disabled_by_default(client: Any) -> None:
    assert client.get("/compte/oidc/connexion/").status_code == 404
    assert "ProConnect" not in client.get("/compte/connexion/").content.decode()


def test_login_creates_a_verified_requester(client: Any, oidc_on: str) -> None:
    assert "Se connecter avec ProConnect" in client.get("/compte/connexion/").content.decode()
    response = client.get("/compte/oidc/connexion/")
    target = urlparse(response["Location"])
    params = parse_qs(target.query)
    assert target.path == "/authorize" and params["client_id"] == ["datadsn"]
    state = params["state"][0]
    assert (
        client.get("/compte/oidc/retour/", {"code": "bon-code", "state": "falsifié"}).status_code
        == 400
    )
    client.get("/compte/oidc/connexion/")
    state = client.session["oidc_state"]
    response = client.get("/compte/oidc/retour/", {"code": "bon-code", "state": state})
    assert response.status_code == 302 and response["Location"] == "/tableau-de-bord/"
    user = User.objects.get(email="agent@ville.example")
    assert user.role == "demandeur" and user.email_verified and not user.has_usable_password()
    assert user.organisation is not None and user.organisation.siret == "73282932000074"
    assert client.get("/tableau-de-bord/").status_code == 200
    assert Event.objects.filter(action="connexion_oidc", actor=user).exists()


def test_bad_code_is_refused(client: Any, oidc_on: str) -> None:
    client.get("/compte/oidc/connexion/")
    state = client.session["oidc_state"]
    assert (
        client.get("/compte/oidc/retour/", {"code": "mauvais", "state": state}).status_code == 400
    )
    assert "_auth_user_id" not in client.session
