"""Benchmark: the portal served in production (``datadsn serve --prod``) under concurrent clients.

A temporary data directory is seeded with the demo content (SQLite), or the database named by
``DATABASE_URL`` is used (PostgreSQL); ``datadsn serve`` is started in a subprocess on a free port;
then ``clients`` threads, each with its own keep-alive connection, request each page in turn and
the latency of every request is kept: p50, p95, max, throughput and errors per page.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run in the seeded database by a fresh interpreter: a session for a requester (the detail page),
# an API token, and a request of theirs.
_PREPARE = """
import json
from datadsn.portal.bootstrap import setup_django
setup_django()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from datadsn.portal.demo import seed
from datadsn.portal.models import ApiToken, User
from datadsn.portal.services import visible_requests
seed()
user = User.objects.get(email="demandeur@region-hdf.example")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({
    "session": session.session_key,
    "token": ApiToken.issue(user, "bench"),
    "request": visible_requests(user).exclude(state="brouillon").first().pk,
}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 120.0) -> None:
    """Wait until the server answers ``GET /`` (or fail if it stopped)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté (code {proc.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("le serveur ne répond pas")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(-(-q * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _load(
    port: int, path: str, headers: dict[str, str], clients: int, total: int
) -> tuple[list[float], int, float]:
    """``total`` GETs of ``path`` by ``clients`` threads; latencies (s), errors, elapsed (s)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(total))
    start_gate = threading.Barrier(clients)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        start_gate.wait()
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    failed += 1
                if (resp.getheader("Connection") or "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), errors[0], time.perf_counter() - t0


def _measure(
    port: int, pages: list[tuple[str, str, dict[str, str]]], clients: int, requests: int, log: Any
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, path, headers in pages:
        warm = min(clients, 4)
        _load(port, path, headers, warm, 4 * warm)
        lat, errors, elapsed = _load(port, path, headers, clients, requests)
        log(f"{name} : {len(lat)} requêtes en {elapsed:.1f} s")
        figures[f"{name} p50 (ms)"] = round(1000 * percentile(lat, 0.50), 1)
        figures[f"{name} p95 (ms)"] = round(1000 * percentile(lat, 0.95), 1)
        figures[f"{name} max (ms)"] = round(1000 * lat[-1], 1) if lat else None
        figures[f"{name} requêtes/s"] = round(len(lat) / elapsed, 1) if elapsed else None
        figures[f"{name} erreurs"] = errors
    return figures


def bench_portal(
    clients: int = 50,
    requests: int = 1000,
    workers: int | None = None,
    threads: int = 8,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Serve the demo portal in production mode and measure four pages under ``clients``."""
    database_url = os.environ.get("DATABASE_URL", "")
    processes = workers or (os.cpu_count() or 1) + 1
    figures: dict[str, Any] = {
        "base de données": "PostgreSQL" if database_url.startswith("postgres") else "SQLite",
        "clients simultanés": clients,
        "requêtes par page": requests,
        "serveur": f"gunicorn, {processes} processus × {threads} fils",
    }
    with tempfile.TemporaryDirectory(prefix="datadsn-bench-portal-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATADSN_", "DJANGO_"))}
        env.update(
            DATADSN_HOME=str(Path(tmp) / "home"),
            DATADSN_SECRET_KEY=secrets.token_urlsafe(50),
            DATADSN_HTTPS="0",
        )
        log("Données de démonstration…")
        out = subprocess.run(
            [sys.executable, "-c", _PREPARE], env=env, capture_output=True, text=True, check=True
        )
        prepared = json.loads(out.stdout.strip().splitlines()[-1])
        pages = [
            ("accueil", "/", {}),
            ("catalogue", "/cas-usage/", {}),
            (
                "demande (connecté)",
                f"/demandes/{prepared['request']}/",
                {"Cookie": f"sessionid={prepared['session']}"},
            ),
            ("API", "/api/demandes", {"Authorization": f"Bearer {prepared['token']}"}),
        ]
        port = free_port()
        cmd = [sys.executable, "-m", "datadsn.cli", "serve", "--port", str(port)]
        cmd += ["--threads", str(threads), "--workers", str(processes)]
        log(f"datadsn serve --prod sur le port {port}…")
        with (Path(tmp) / "serve.log").open("w") as server_log:
            proc = subprocess.Popen(cmd, env=env, stdout=server_log, stderr=server_log)
            try:
                wait_for_port(port, proc)
                figures |= _measure(port, pages, clients, requests, log)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return figures
