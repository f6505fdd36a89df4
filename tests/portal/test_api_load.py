"""Issue 19, S7: API reads do not write, and SQLite is set for concurrent clients."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from datadsn.portal.models import ApiToken
from datadsn.portal.settings import database_from_url, sqlite_database

pytestmark = pytest.mark.django_db


def _writes(queries: list[dict[str, Any]]) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


def test_api_reads_do_not_write(world: Any) -> None:
    key = ApiToken.issue(world.users["req_a"])
    api = Client(headers={"Authorization": f"Bearer {key}"})
    with CaptureQueriesContext(connection) as first:
        assert api.get("/api/demandes").status_code == 200
    assert len(_writes(first.captured_queries)) == 1  # the first use is recorded
    for url in ("/api/demandes", "/api/habilitations", f"/api/demandes/{world.req['draft_a'].pk}"):
        with CaptureQueriesContext(connection) as again:
            assert api.get(url).status_code == 200
        assert _writes(again.captured_queries) == [], url
    # An hour later the last use is refreshed, once.
    ApiToken.objects.filter(digest=ApiToken.hash(key)).update(
        last_used_at=timezone.now() - timedelta(hours=2)
    )
    with CaptureQueriesContext(connection) as later:
        api.get("/api/demandes")
    assert len(_writes(later.captured_queries)) == 1
    token = ApiToken.objects.get(digest=ApiToken.hash(key))
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_sqlite_is_configured_for_concurrency(tmp_path: Path) -> None:
    for db in (sqlite_database(str(tmp_path / "p.sqlite3")), database_from_url("sqlite:////x")):
        options = db["OPTIONS"]
        assert options["timeout"] >= 20 and options["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in options["init_command"]


def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    """50 threads each writing to one SQLite file with the portal's options: none fails."""
    import sqlite3

    path = tmp_path / "charge.sqlite3"
    options = sqlite_database(str(path))["OPTIONS"]

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=options["timeout"], isolation_level=None)
        conn.executescript(options["init_command"])
        return conn

    connect().execute("CREATE TABLE t (n INTEGER)")
    errors: list[Exception] = []

    def worker(n: int) -> None:
        try:
            conn = connect()
            for _ in range(5):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("SELECT count(*) FROM t").fetchone()
                conn.execute("INSERT INTO t VALUES (?)", (n,))
                conn.execute("COMMIT")
            conn.close()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert connect().execute("SELECT count(*) FROM t").fetchone() == (250,)
    assert connect().execute("PRAGMA journal_mode").fetchone() == ("wal",)
