"""Security headers Django 5.2 does not set by itself (content security policy, permissions)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


PRIVATE_PREFIXES = (
    "/compte/",
    "/tableau-de-bord/",
    "/demandes/",
    "/comite/",
    "/habilitations/",
    "/livraisons/",
    "/journal/",
    "/admin/",
    "/api/",
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if self.private(request):
            cache_control = response.headers.get("Cache-Control", "")
            if "no-store" not in cache_control:
                response.headers["Cache-Control"] = "no-store, private"
        return response

    @staticmethod
    def private(request: HttpRequest) -> bool:
        """Pages that may show personal or non-public data must never be stored by a cache."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        return request.path.startswith(PRIVATE_PREFIXES)
