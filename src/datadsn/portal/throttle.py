"""Login throttling on every path that checks a password (portal and admin login alike).

The authentication backend itself refuses to check a password once the account or the client
address has too many recent failures, so no login form can bypass the limit:

- per account: ``LOGIN_MAX_FAILURES`` failures, whatever the addresses they come from;
- per address: ``LOGIN_MAX_FAILURES_PER_IP`` failures, whatever the accounts tried (password
  spraying).

Counters live in the ``throttle`` cache, in the database and so shared by every server process,
for ``LOGIN_LOCKOUT_SECONDS`` from the first failure.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest

cache = caches["throttle"]
MESSAGE = "Trop de tentatives de connexion. Réessayez dans quelques minutes."


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    header = settings.CLIENT_IP_HEADER
    if header and request.META.get(header):
        # The address appended by the trusted proxy is the last one of the list.
        return str(request.META[header]).split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _account_key(username: str) -> str:
    return "login-failures:account:" + (username or "").strip().lower()


def _ip_key(request: HttpRequest | None) -> str:
    return "login-failures:ip:" + client_ip(request)


def locked(request: HttpRequest | None, username: str) -> bool:
    return (
        cache.get(_account_key(username), 0) >= settings.LOGIN_MAX_FAILURES
        or cache.get(_ip_key(request), 0) >= settings.LOGIN_MAX_FAILURES_PER_IP
    )


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)


@receiver(user_login_failed)
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any
) -> None:
    _bump(_account_key(str(credentials.get("username", ""))))
    _bump(_ip_key(request))


@receiver(user_logged_in)
def _forget_account_failures(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    cache.delete(_account_key(user.get_username()))


class ThrottledModelBackend(ModelBackend):
    """``ModelBackend`` that does not even check the password of a locked account or address."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get("username") or kwargs.get("email") or ""
        if locked(request, username or ""):
            raise PermissionDenied(MESSAGE)  # stops authenticate(); counted as a failure
        return super().authenticate(request, username=username, password=password, **kwargs)
