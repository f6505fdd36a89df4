"""ProConnect (OpenID Connect) login, the production login, enabled by configuration.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``, as ProConnect requires. The ID
token is verified with joserfc (signature against the provider's published keys, issuer,
audience, expiry, nonce); the identity claims come from the userinfo endpoint, which ProConnect
answers with a signed JWT (plain JSON is accepted too) whose subject must match the ID token's.
A ProConnect account joins its organisation only through the verification path of local
accounts (``services.confirm_by_domain``, or approval by a member or an instructor).

Enabled when ``DATADSN_OIDC_ISSUER``, ``DATADSN_OIDC_CLIENT_ID`` and ``DATADSN_OIDC_CLIENT_SECRET``
are set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.urls import reverse
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from . import services
from .models import ActorType, Organisation, Role, User, validate_siret

log = logging.getLogger(__name__)

TIMEOUT = 10
# ProConnect signs with RS256 or ES256; "none" and HMAC algorithms are never accepted.
ALGORITHMS = ["RS256", "ES256"]


class OidcError(Exception):
    """The provider's answer cannot be trusted; the login is refused."""


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET)


def _fetch(req: Request | str) -> tuple[str, bytes]:
    with urlopen(req, timeout=TIMEOUT) as response:
        return str(response.headers.get("Content-Type", "")), response.read()


def _json(req: Request | str) -> dict[str, Any]:
    data = json.loads(_fetch(req)[1].decode("utf-8"))
    if not isinstance(data, dict):
        raise OidcError("réponse OpenID Connect inattendue")
    return data


def _issuer() -> str:
    return str(settings.OIDC_ISSUER).rstrip("/")


def discovery() -> dict[str, Any]:
    key = f"oidc-discovery:{_issuer()}"
    config = cache.get(key)
    if config is None:
        config = _json(_issuer() + "/.well-known/openid-configuration")
        if str(config.get("issuer", "")).rstrip("/") != _issuer():
            raise OidcError("l'émetteur annoncé ne correspond pas à DATADSN_OIDC_ISSUER")
        cache.set(key, config, 3600)
    return config


def _keys(refresh: bool = False) -> KeySet:
    key = f"oidc-jwks:{_issuer()}"
    jwks: Any = None if refresh else cache.get(key)
    if jwks is None:
        jwks = _json(discovery()["jwks_uri"])
        cache.set(key, jwks, 3600)
    return KeySet.import_key_set(jwks)


def _verified(token: str, expiring: bool = True, **claims: Any) -> dict[str, Any]:
    """The claims of a JWT signed by the provider, checked for issuer, audience, expiry (required
    when ``expiring``: signed userinfo may carry none) and ``claims`` (a key rotation is
    followed by fetching the published keys once more)."""
    try:
        try:
            decoded = jwt.decode(token, _keys(), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            decoded = jwt.decode(token, _keys(refresh=True), algorithms=ALGORITHMS)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": discovery()["issuer"]},
            "aud": {"essential": True, "value": settings.OIDC_CLIENT_ID},
            "exp": {"essential": expiring},
            "sub": {"essential": True},
        }
        options.update({k: {"essential": True, "value": v} for k, v in claims.items()})
        jwt.JWTClaimsRegistry(**options).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise OidcError(f"jeton refusé : {exc}") from exc
    return dict(decoded.claims)


def _redirect_uri() -> str:
    return str(settings.SITE_URL + reverse("portal:oidc_callback"))


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(request: HttpRequest) -> HttpResponse:
    if not enabled():
        raise Http404
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    request.session["oidc_state"] = state
    request.session["oidc_nonce"] = nonce
    request.session["oidc_verifier"] = verifier
    params = {
        "response_type": "code",
        "client_id": settings.OIDC_CLIENT_ID,
        "redirect_uri": _redirect_uri(),
        "scope": settings.OIDC_SCOPES,
        "state": state,
        "nonce": nonce,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "acr_values": "eidas1",
    }
    try:
        endpoint = discovery()["authorization_endpoint"]
    except (OSError, ValueError, KeyError, OidcError):
        return HttpResponseBadRequest("Le fournisseur d'identité ne répond pas correctement.")
    return HttpResponseRedirect(endpoint + "?" + urlencode(params))


def _identity(code: str, nonce: str, verifier: str) -> tuple[dict[str, Any], str]:
    """Exchange the code (with the PKCE verifier): the verified identity claims and the ID token."""
    config = discovery()
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _redirect_uri(),
            "client_id": settings.OIDC_CLIENT_ID,
            "client_secret": settings.OIDC_CLIENT_SECRET,
            "code_verifier": verifier,
        }
    ).encode()
    token = _json(Request(config["token_endpoint"], data=body, method="POST"))
    id_claims = _verified(str(token["id_token"]), nonce=nonce)
    kind, raw = _fetch(
        Request(
            config["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
    )
    if kind.split(";")[0].strip() == "application/jwt":
        info = _verified(raw.decode("ascii").strip(), expiring=False, sub=id_claims["sub"])
    else:
        info = json.loads(raw.decode("utf-8"))
        if not isinstance(info, dict) or info.get("sub") != id_claims["sub"]:
            raise OidcError("le sujet de userinfo ne correspond pas au jeton d'identité")
    return {**info, "sub": id_claims["sub"]}, str(token["id_token"])


def callback(request: HttpRequest) -> HttpResponse:
    if not enabled():
        raise Http404
    expected = request.session.pop("oidc_state", None)
    nonce = request.session.pop("oidc_nonce", None)
    verifier = request.session.pop("oidc_verifier", None)
    if (
        not expected
        or not nonce
        or not verifier
        or not secrets.compare_digest(expected.encode(), request.GET.get("state", "").encode())
    ):
        return HttpResponseBadRequest("État OpenID Connect invalide.")
    code = request.GET.get("code")
    if not code:
        return HttpResponseBadRequest("Code d'autorisation manquant.")
    try:
        info, id_token = _identity(code, nonce, verifier)
    except (OSError, ValueError, KeyError, OidcError) as exc:
        log.warning("connexion OpenID Connect refusée : %r", exc)
        return HttpResponseBadRequest("Échec de la connexion avec le fournisseur d'identité.")
    email = str(info.get("email") or "").strip().lower()
    if not email:
        return HttpResponseBadRequest(
            "Le fournisseur d'identité n'a pas transmis d'adresse électronique."
        )
    try:
        user = _user_for(email, info)
    except IdentityConflict:
        log.warning("connexion OpenID Connect refusée : %s est lié à une autre identité", email)
        return HttpResponseBadRequest(
            "Cette adresse électronique appartient à un compte lié à une autre identité "
            "ProConnect. Contactez l'équipe DataDSN."
        )
    if not user.is_active:
        return HttpResponseBadRequest("Ce compte est désactivé.")
    login(request, user, backend="datadsn.portal.throttle.ThrottledModelBackend")
    # Kept for the logout, which must end the provider's session too (``id_token_hint``).
    request.session["oidc_id_token"] = id_token
    services.record(user, "connexion_oidc", user, {"fournisseur": settings.OIDC_ISSUER})
    return HttpResponseRedirect(reverse("portal:dashboard"))


class LogoutView(auth_views.LogoutView):
    """Django's logout; after a ProConnect login, it also ends the session at the provider, which
    sends the browser back to the portal's home page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if not id_token or not enabled():
            return response
        try:
            endpoint = discovery().get("end_session_endpoint")
        except (OSError, ValueError, OidcError):
            endpoint = None
        if not endpoint:
            return response
        params = {
            "id_token_hint": id_token,
            "state": secrets.token_urlsafe(16),
            "post_logout_redirect_uri": settings.SITE_URL + reverse("portal:home"),
        }
        return HttpResponseRedirect(f"{endpoint}?{urlencode(params)}")


class IdentityConflict(Exception):
    """The provider's e-mail belongs to an account bound to another ProConnect identity."""


@transaction.atomic
def _user_for(email: str, info: dict[str, Any]) -> User:
    """The account of this ProConnect identity: found by (issuer, sub), bound at the first login.

    The e-mail only serves that first login, to find an account created before (a local one or
    one from before the binding); an account already bound to another identity is never handed
    to whoever presents its e-mail, and an e-mail changed at the provider keeps the same account.
    """
    issuer, subject = _issuer(), str(info["sub"])
    user = User.objects.select_for_update().filter(oidc_issuer=issuer, oidc_subject=subject).first()
    if user is not None:
        return user
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is not None:
        if user.oidc_subject:
            raise IdentityConflict(email)
        user.oidc_issuer, user.oidc_subject = issuer, subject
        fields = ["oidc_issuer", "oidc_subject"]
        if not user.email_verified:
            # Whoever registered this address locally never proved it; the provider has just
            # proved it is this agent's: the unproved password goes (and its sessions with it).
            user.email_verified = True
            user.set_unusable_password()
            fields += ["email_verified", "password"]
        user.save(update_fields=fields)
        services.record(user, "liaison_oidc", user, {"fournisseur": issuer})
        return user
    org = None
    siret = str(info.get("siret") or "")
    try:
        validate_siret(siret)
    except Exception:
        siret = ""
    if siret:
        org = Organisation.objects.filter(siret=siret).first()
        if org is None:
            org = Organisation.objects.create(
                siret=siret,
                name=str(info.get("organizational_unit") or f"Organisation {siret}"),
                actor_type=ActorType.OTHER,
            )
    user = User(
        username=email,
        email=email,
        first_name=str(info.get("given_name") or ""),
        last_name=str(info.get("usual_name") or info.get("family_name") or ""),
        role=Role.REQUESTER,
        organisation=org,
        organisation_confirmed=False,
        email_verified=True,
        oidc_issuer=issuer,
        oidc_subject=subject,
    )
    user.set_unusable_password()
    user.save()
    services.record(user, "inscription_oidc", user, {"siret": siret})
    # Like a local account, it joins its organisation only through a verification path.
    services.confirm_by_domain(user)
    return user
