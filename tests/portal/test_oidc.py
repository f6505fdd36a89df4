"""ProConnect (OpenID Connect) login against a local provider started by the test.

The provider speaks the authorization code flow with PKCE as ProConnect does: it records the
code challenge and nonce at /authorize, checks the client secret, redirect URI and code verifier
at /token, signs the ID token and answers userinfo with a signed JWT (RS256, keys published on
/jwks). Each attack below makes it misbehave in one way and checks that nobody is logged in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlparse
from urllib.request import HTTPRedirectHandler, build_opener

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from datadsn.portal import services
from datadsn.portal.models import Event, MembershipVerification, Organisation, User

from .conftest import PASSWORD, filled_request

pytestmark = pytest.mark.django_db

CLIENT_ID, CLIENT_SECRET = "datadsn", "secret-du-client-oidc-0123456789abcdef"
SIRET = "73282932000074"


class Provider:
    """State and misbehaviours of the local provider."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "cle-1", "use": "sig"})
        self.url = ""
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, Any] = {}
        self.tamper = ""
        self.issued = ""  # the last ID token
        self.sub = ""  # the agent's stable identifier at the provider

    def reset(self) -> None:
        self.codes.clear()
        self.tokens.clear()
        self.tamper = ""
        self.sub = "sub-agent-1"
        self.claims = {
            "email": "Agent@Ville.example",
            "given_name": "Agnès",
            "usual_name": "Roux",
            "siret": SIRET,
            "organizational_unit": "Ville exemple",
        }

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.key
        if self.tamper == "cle_etrangere":
            key = RSAKey.generate_key(2048, parameters={"kid": "cle-1"})
        return jwt.encode({"alg": "RS256", "kid": "cle-1"}, claims, key)

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": self.sub,
            "aud": CLIENT_ID,
            "exp": now + 60,
            "iat": now,
            "nonce": grant["nonce"],
            "acr": "eidas1",
        }
        if self.tamper == "nonce_rejoue":
            claims["nonce"] = "nonce-d-une-autre-session"
        elif self.tamper == "autre_client":
            claims["aud"] = "un-autre-service"
        elif self.tamper == "expire":
            claims["exp"] = now - 3600
        elif self.tamper == "autre_emetteur":
            claims["iss"] = "https://faux-fournisseur.example"
        if self.tamper == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return f"{header}.{body}."
        return self.sign(claims)

    def userinfo(self) -> str:
        sub = self.sub + "-autre" if self.tamper == "autre_sujet" else self.sub
        return self.sign({"iss": self.url, "aud": CLIENT_ID, "sub": sub, **self.claims})


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode())

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": p.url,
                        "authorization_endpoint": p.url + "/authorize",
                        "token_endpoint": p.url + "/token",
                        "userinfo_endpoint": p.url + "/userinfo",
                        "jwks_uri": p.url + "/jwks",
                        "end_session_endpoint": p.url + "/session/end",
                        "code_challenge_methods_supported": ["S256"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif url.path == "/jwks":
                self._json(200, {"keys": [p.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                # The agent authenticates here; the provider sends her back with a code.
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                    self._json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                p.codes[code] = q
                target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
            elif url.path == "/userinfo":
                auth = self.headers.get("Authorization", "")
                if auth.removeprefix("Bearer ") not in p.tokens:
                    self._json(401, {"error": "invalid_token"})
                    return
                self._send(200, p.userinfo().encode(), "application/jwt")
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            form = {
                k: v[0]
                for k, v in parse_qs(
                    self.rfile.read(int(self.headers["Content-Length"])).decode()
                ).items()
            }
            grant = p.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                grant is None
                or form.get("client_id") != CLIENT_ID
                or form.get("client_secret") != CLIENT_SECRET
                or form.get("redirect_uri") != grant["redirect_uri"]
                or challenge != grant["code_challenge"]
            ):
                self._json(400, {"error": "invalid_grant"})
                return
            access = secrets.token_urlsafe(16)
            p.tokens[access] = grant
            p.issued = p.id_token(grant)
            self._json(200, {"access_token": access, "token_type": "Bearer", "id_token": p.issued})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    p.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield p
    server.shutdown()


@pytest.fixture
def oidc_on(settings: Any, provider: Provider) -> Provider:
    from django.core.cache import cache

    cache.clear()
    provider.reset()
    settings.OIDC_ISSUER = provider.url
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    return provider


class _Stay(HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def authorize(client: Client) -> str:
    """Start the login on the portal and pass the provider's page: the callback path to call."""
    start = client.get("/compte/oidc/connexion/")
    assert start.status_code == 302
    try:
        build_opener(_Stay).open(start["Location"], timeout=5)
    except HTTPError as answer:
        assert answer.code == 302
        back = urlparse(answer.headers["Location"])
        return f"{back.path}?{back.query}"
    raise AssertionError("le fournisseur n'a pas renvoyé vers le portail")


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_disabled_by_default(client: Any) -> None:
    assert client.get("/compte/oidc/connexion/").status_code == 404
    assert "ProConnect" not in client.get("/compte/connexion/").content.decode()


def test_login_with_pkce_creates_an_unverified_member(client: Any, oidc_on: Provider) -> None:
    assert "Se connecter avec ProConnect" in client.get("/compte/connexion/").content.decode()
    start = urlparse(client.get("/compte/oidc/connexion/")["Location"])
    params = parse_qs(start.query)
    assert start.path == "/authorize" and params["client_id"] == [CLIENT_ID]
    assert params["code_challenge_method"] == ["S256"] and params["nonce"]
    response = client.get(authorize(client))
    assert response.status_code == 302 and response["Location"] == "/tableau-de-bord/"
    user = User.objects.get(email="agent@ville.example")
    assert user.role == "demandeur" and user.email_verified and not user.has_usable_password()
    assert user.organisation is not None and user.organisation.siret == SIRET
    # A SIRET claim does not make her a verified member: she cannot file in its name.
    assert not user.organisation_confirmed
    req = filled_request(user, "Demande d'un agent ProConnect")
    with pytest.raises(ValidationError, match="rattachement"):
        services.submit(user, req)
    assert client.get("/tableau-de-bord/").status_code == 200
    assert Event.objects.filter(action="connexion_oidc", actor=user).exists()


def test_declared_domain_verifies_the_membership(client: Any, oidc_on: Provider) -> None:
    org = Organisation.objects.create(
        name="Ville exemple", siret=SIRET, actor_type="collectivite", email_domains="ville.example"
    )
    client.get(authorize(client))
    user = User.objects.get(email="agent@ville.example")
    assert user.organisation == org and user.organisation_confirmed
    assert user.organisation_verification == MembershipVerification.DOMAIN
    # Another domain claiming the same SIRET waits for approval.
    oidc_on.sub, oidc_on.claims["email"] = "sub-intrus", "intrus@ailleurs.example"
    other = Client()
    other.get(authorize(other))
    intruder = User.objects.get(email="intrus@ailleurs.example")
    assert intruder.organisation == org and not intruder.organisation_confirmed


def test_an_authorization_code_injected_into_another_session_is_refused(
    oidc_on: Provider,
) -> None:
    victim, attacker = Client(), Client()
    stolen = parse_qs(urlparse(authorize(victim)).query)["code"][0]
    # The attacker starts his own login and replays the victim's code with his own state:
    # his session's PKCE verifier does not match the challenge the code was issued for.
    own = parse_qs(urlparse(authorize(attacker)).query)
    answer = attacker.get("/compte/oidc/retour/", {"code": stolen, "state": own["state"][0]})
    assert answer.status_code == 400 and not logged_in(attacker)


def test_forged_state_is_refused(client: Any, oidc_on: Provider) -> None:
    back = parse_qs(urlparse(authorize(client)).query)
    answer = client.get("/compte/oidc/retour/", {"code": back["code"][0], "state": "falsifié"})
    assert answer.status_code == 400 and not logged_in(client)


@pytest.mark.parametrize(
    "tamper",
    [
        "cle_etrangere",
        "nonce_rejoue",
        "autre_client",
        "expire",
        "autre_emetteur",
        "alg_none",
        "autre_sujet",
    ],
)
def test_untrustworthy_tokens_are_refused(client: Any, oidc_on: Provider, tamper: str) -> None:
    oidc_on.tamper = tamper
    answer = client.get(authorize(client))
    assert answer.status_code == 400, tamper
    assert not logged_in(client)
    assert not User.objects.filter(email="agent@ville.example").exists()


def test_bad_code_is_refused(client: Any, oidc_on: Provider) -> None:
    back = parse_qs(urlparse(authorize(client)).query)
    answer = client.get("/compte/oidc/retour/", {"code": "mauvais", "state": back["state"][0]})
    assert answer.status_code == 400 and not logged_in(client)


def test_logout_ends_the_provider_session_too(client: Any, oidc_on: Provider) -> None:
    client.get(authorize(client))
    assert logged_in(client)
    answer = client.post("/compte/deconnexion/")
    target = urlparse(answer["Location"])
    params = parse_qs(target.query)
    assert answer.status_code == 302 and f"{target.scheme}://{target.netloc}" == oidc_on.url
    assert target.path == "/session/end" and params["id_token_hint"] == [oidc_on.issued]
    assert params["post_logout_redirect_uri"] == ["http://testserver/"] and params["state"]
    assert not logged_in(client)


def test_local_logout_stays_local(oidc_on: Provider, world: Any) -> None:
    c = Client()
    c.force_login(world.users["req_a"])
    answer = c.post("/compte/deconnexion/")
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert not logged_in(c)


def _logged_as(client: Client) -> int | None:
    uid = client.session.get("_auth_user_id")
    return int(uid) if uid else None


def test_an_e_mail_change_at_the_provider_keeps_the_same_account(oidc_on: Provider) -> None:
    first = Client()
    first.get(authorize(first))
    agent = User.objects.get(email="agent@ville.example")
    assert (agent.oidc_issuer, agent.oidc_subject) == (oidc_on.url, "sub-agent-1")
    # The agent's address changes at the provider, to a new one, then to another account's.
    other = User.objects.create_user(
        username="voisin@ville.example", email="voisin@ville.example", password=PASSWORD
    )
    for email in ("agent.nouvelle@ville.example", "voisin@ville.example"):
        oidc_on.claims["email"] = email
        c = Client()
        assert c.get(authorize(c)).status_code == 302
        assert _logged_as(c) == agent.pk, email
    assert User.objects.count() == 2
    other.refresh_from_db()
    assert other.oidc_subject == "" and other.check_password(PASSWORD)


def test_another_identity_presenting_a_bound_e_mail_is_refused(oidc_on: Provider) -> None:
    first = Client()
    first.get(authorize(first))
    agent = User.objects.get(email="agent@ville.example")
    # Another ProConnect identity (another agent, or a provider account re-created by someone
    # else) now asserts the same address: it gets neither this account nor a new one.
    oidc_on.sub = "sub-autre-personne"
    intruder = Client()
    answer = intruder.get(authorize(intruder))
    assert answer.status_code == 400 and "autre identité" in answer.content.decode()
    assert not logged_in(intruder)
    agent.refresh_from_db()
    assert agent.oidc_subject == "sub-agent-1" and User.objects.count() == 1


def test_a_local_account_is_bound_at_its_first_proconnect_login(oidc_on: Provider) -> None:
    local = User.objects.create_user(
        username="agent@ville.example",
        email="agent@ville.example",
        password=PASSWORD,
        email_verified=True,
    )
    c = Client()
    c.get(authorize(c))
    local.refresh_from_db()
    assert _logged_as(c) == local.pk and local.oidc_subject == "sub-agent-1"
    assert local.check_password(PASSWORD)  # her own, proved address: her password stays
    assert Event.objects.filter(action="liaison_oidc", actor=local).exists()


def test_an_unproved_local_registration_loses_its_password_to_the_address_owner(
    oidc_on: Provider,
) -> None:
    # Someone registered the agent's address locally without ever opening the verification
    # e-mail; the agent then logs in with ProConnect, which proves the address is hers.
    squat = User.objects.create_user(
        username="agent@ville.example", email="agent@ville.example", password=PASSWORD
    )
    c = Client()
    c.get(authorize(c))
    squat.refresh_from_db()
    assert _logged_as(c) == squat.pk and squat.email_verified
    assert not squat.has_usable_password()
    assert not Client().login(username="agent@ville.example", password=PASSWORD)


def test_the_admin_cannot_rebind_an_identity(oidc_on: Provider, superadmin: Any) -> None:
    first = Client()
    first.get(authorize(first))
    agent = User.objects.get(email="agent@ville.example")
    admin = Client()
    admin.force_login(superadmin)
    page = admin.get(f"/admin/portal/user/{agent.pk}/change/").content.decode()
    assert "sub-agent-1" in page  # shown, not editable
    assert 'name="oidc_subject"' not in page and 'name="oidc_issuer"' not in page
