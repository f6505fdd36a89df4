"""The portal runs on the database DATABASE_URL names (make test runs the suite on PostgreSQL too)."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from datadsn.portal.settings import database_from_url


@pytest.mark.django_db
def test_the_configured_database_is_the_one_used() -> None:
    url = os.environ.get("DATABASE_URL")
    expected = database_from_url(url)["ENGINE"].rsplit(".", 1)[-1] if url else "sqlite3"
    vendor = {"postgresql": "postgresql", "sqlite3": "sqlite"}[expected]
    assert connection.vendor == vendor
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        assert cursor.fetchone() == (1,)
