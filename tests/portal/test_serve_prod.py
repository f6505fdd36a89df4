"""Issue 19, item 6: ``datadsn serve`` (``--prod``) runs a real WSGI server with keep-alive,
serves the static files itself and logs the traceback of a 500 to stderr."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from datadsn.bench.portal import free_port, wait_for_port

BOOM_URLS = """
from django.urls import path

from datadsn.portal.urls import urlpatterns as portal_urls


def boom(request):
    raise RuntimeError("panne volontaire pour le test")


urlpatterns = [path("panne/", boom), *portal_urls]
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str], Path]]:
    (tmp_path / "boom_urls.py").write_text(BOOM_URLS, encoding="utf-8")
    (tmp_path / "boom_settings.py").write_text(
        textwrap.dedent(
            """
            from datadsn.portal.settings import *  # noqa: F403

            ROOT_URLCONF = "boom_urls"
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATADSN_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)  # a fresh SQLite base in the temporary home
    env.update(
        DATADSN_HOME=str(tmp_path / "home"),
        DATADSN_SECRET_KEY="serve-test-secret-key-0123456789abcdefghijklmnop",
        DATADSN_HTTPS="0",
        DJANGO_SETTINGS_MODULE="boom_settings",
        PYTHONPATH=str(tmp_path) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    port = free_port()
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "datadsn.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        try:
            wait_for_port(port, proc)
            yield port, proc, log
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_prod_is_gunicorn_with_keep_alive_static_files_and_logged_errors(
    served: tuple[int, subprocess.Popen[str], Path],
) -> None:
    port, _, log = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    first = conn.getresponse()
    first.read()
    assert first.status == 200
    server = first.getheader("Server", "")
    assert "gunicorn" in server and "WSGIServer" not in server
    sock = conn.sock
    # Keep-alive: the next requests reuse the same connection.
    conn.request("GET", "/cas-usage/")
    second = conn.getresponse()
    second.read()
    assert second.status == 200 and conn.sock is sock
    assert (second.getheader("Connection") or "").lower() != "close"
    # Static files come from WhiteNoise (collected at start-up), with a cache lifetime.
    conn.request("GET", "/static/dsfr/dist/dsfr.min.css")
    css = conn.getresponse()
    body = css.read()
    assert css.status == 200 and len(body) > 10_000
    assert "max-age" in (css.getheader("Cache-Control") or "")
    # A 500: the visitor sees the French error page, the log holds the traceback.
    conn.request("GET", "/panne/")
    boom = conn.getresponse()
    page = boom.read().decode()
    assert boom.status == 500 and "panne volontaire" not in page
    conn.close()
    end = time.monotonic() + 10
    while time.monotonic() < end and "panne volontaire" not in log.read_text():
        time.sleep(0.1)
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: panne volontaire pour le test" in text
