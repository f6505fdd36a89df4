"""Issue 19, S4: every login path is throttled, per account and per client address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _admin_login(client: Client, username: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_ten_wrong_admin_passwords_lock_the_admin_login(superadmin: Any) -> None:
    c = Client()
    for _ in range(10):
        _admin_login(c, superadmin.email, "mauvais-mot-de-passe")
    response = _admin_login(c, superadmin.email, PASSWORD)
    assert "_auth_user_id" not in c.session
    assert "Trop de tentatives" in response.content.decode()
    # Another address does not help: the account itself is locked.
    other = Client(REMOTE_ADDR="10.9.9.9")
    _admin_login(other, superadmin.email, PASSWORD)
    assert "_auth_user_id" not in other.session


def test_an_account_locked_on_the_portal_is_locked_on_the_admin(superadmin: Any) -> None:
    c = Client()
    for _ in range(5):
        c.post("/compte/connexion/", {"username": superadmin.email, "password": "faux"})
    _admin_login(Client(), superadmin.email, PASSWORD)
    response = _admin_login(c, superadmin.email, PASSWORD)
    assert "_auth_user_id" not in c.session and "Trop de tentatives" in response.content.decode()
    response = c.post("/compte/connexion/", {"username": superadmin.email, "password": PASSWORD})
    assert "_auth_user_id" not in c.session and "Trop de tentatives" in response.content.decode()


def test_failures_from_many_addresses_lock_the_account(world: Any) -> None:
    email = world.users["req_a"].email
    for i in range(5):
        Client(REMOTE_ADDR=f"10.0.0.{i}").post(
            "/compte/connexion/", {"username": email, "password": "faux"}
        )
    c = Client(REMOTE_ADDR="10.0.1.1")
    c.post("/compte/connexion/", {"username": email, "password": PASSWORD})
    assert "_auth_user_id" not in c.session


def test_password_spraying_from_one_address_is_limited(world: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES_PER_IP = 6
    sprayer = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(6):  # one try per account: no account reaches its own limit
        sprayer.post(
            "/compte/connexion/",
            {"username": f"agent{i}@orga.example", "password": "Printemps2026"},
        )
    response = sprayer.post(
        "/compte/connexion/", {"username": world.users["req_b"].email, "password": PASSWORD}
    )
    assert "_auth_user_id" not in sprayer.session
    assert "Trop de tentatives" in response.content.decode()
    # The same account from elsewhere still gets in.
    c = Client(REMOTE_ADDR="198.51.100.1")
    c.post("/compte/connexion/", {"username": world.users["req_b"].email, "password": PASSWORD})
    assert "_auth_user_id" in c.session


def test_failure_counters_are_shared_by_every_server_process(superadmin: Any) -> None:
    """``datadsn serve`` runs several processes: the counters live in the database, not in one
    process's memory, so a process started afresh sees the lock."""
    from django.core.cache.backends.db import DatabaseCache
    from django.db import connection

    from datadsn.portal import throttle

    assert isinstance(throttle.cache, DatabaseCache)
    c = Client()
    for _ in range(5):
        c.post("/compte/connexion/", {"username": superadmin.email, "password": "faux"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM portal_throttle_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(superadmin.email in key for key in keys)
