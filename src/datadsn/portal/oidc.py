"""Optional OpenID Connect login (ProConnect-style), enabled by configuration.

Authorization code flow; the identity comes from the userinfo endpoint, called over the TLS
back channel with the access token obtained by client authentication (the ID token is not used).
Enabled when ``DATADSN_OIDC_ISSUER``, ``DATADSN_OIDC_CLIENT_ID`` and ``DATADSN_OIDC_CLIENT_SECRET`` are set.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings
from django.contrib.auth import login
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

from . import services
from .models import ActorType, Organisation, Role, User, validate_siret

TIMEOUT = 10


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET)


def _json(req: Request | str) -> dict[str, Any]:
    with urlopen(req, timeout=TIMEOUT) as response:
        data = json.loads(response.read().decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("réponse OpenID Connect inattendue")
    return data


def discovery() -> dict[str, Any]:
    key = f"oidc-discovery:{settings.OIDC_ISSUER}"
    config = cache.get(key)
    if config is None:
        config = _json(settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration")
        cache.set(key, config, 3600)
    return config


def _redirect_uri() -> str:
    return str(settings.SITE_URL + reverse("portal:oidc_callback"))


def start(request: HttpRequest) -> HttpResponse:
    if not enabled():
        raise Http404
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    request.session["oidc_state"] = state
    request.session["oidc_nonce"] = nonce
    params = {
        "response_type": "code",
        "client_id": settings.OIDC_CLIENT_ID,
        "redirect_uri": _redirect_uri(),
        "scope": settings.OIDC_SCOPES,
        "state": state,
        "nonce": nonce,
        "acr_values": "eidas1",
    }
    return HttpResponseRedirect(discovery()["authorization_endpoint"] + "?" + urlencode(params))


def callback(request: HttpRequest) -> HttpResponse:
    if not enabled():
        raise Http404
    expected = request.session.pop("oidc_state", None)
    request.session.pop("oidc_nonce", None)
    if not expected or not secrets.compare_digest(
        expected.encode(), request.GET.get("state", "").encode()
    ):
        return HttpResponseBadRequest("État OpenID Connect invalide.")
    code = request.GET.get("code")
    if not code:
        return HttpResponseBadRequest("Code d'autorisation manquant.")
    config = discovery()
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _redirect_uri(),
            "client_id": settings.OIDC_CLIENT_ID,
            "client_secret": settings.OIDC_CLIENT_SECRET,
        }
    ).encode()
    try:
        token = _json(Request(config["token_endpoint"], data=body, method="POST"))
        info = _json(
            Request(
                config["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
        )
    except (OSError, ValueError, KeyError):
        return HttpResponseBadRequest("Échec de la connexion avec le fournisseur d'identité.")
    email = str(info.get("email") or "").strip().lower()
    if not email:
        return HttpResponseBadRequest(
            "Le fournisseur d'identité n'a pas transmis d'adresse électronique."
        )
    user = _user_for(email, info)
    if not user.is_active:
        return HttpResponseBadRequest("Ce compte est désactivé.")
    login(request, user, backend="datadsn.portal.throttle.ThrottledModelBackend")
    services.record(user, "connexion_oidc", user, {"fournisseur": settings.OIDC_ISSUER})
    return HttpResponseRedirect(reverse("portal:dashboard"))


@transaction.atomic
def _user_for(email: str, info: dict[str, Any]) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
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
    )
    user.set_unusable_password()
    user.save()
    services.record(user, "inscription_oidc", user, {"siret": siret})
    # Like a local account, it joins its organisation only through a verification path.
    services.confirm_by_domain(user)
    return user
