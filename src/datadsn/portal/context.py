from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": "DataDSN",
        "site_tagline": "Les données sociales au service des politiques publiques",
    }
