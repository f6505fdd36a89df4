from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .oidc import enabled


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": "DataDSN",
        "site_tagline": "Les données sociales au service des politiques publiques",
        "oidc_enabled": enabled(),
        "oidc_label": settings.OIDC_LABEL,
    }
