"""The container image, built by scripts/build-image.sh from Debian's mirror (no Docker Hub),
then its entrypoint run inside it: a command, and the portal (gunicorn, static files) on the
PostgreSQL of test_entrypoint.py. Needs root, podman, buildah and debootstrap (all from Debian's
packages); skipped elsewhere. The first run makes the base image (about three minutes), later
runs reuse it and rebuild the project's layers."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .test_entrypoint import _free_port, postgres_url  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("podman", "buildah", "debootstrap")),
        reason="needs root, podman, buildah and debootstrap (apt-get install podman buildah "
        "debootstrap)",
    ),
]


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _serve_portal(run: list[str], database: str) -> None:
    """The image's default mode against PostgreSQL: migrations, then gunicorn and static files."""
    port = _free_port()
    env = {
        "DATABASE_URL": database,
        "DATADSN_SECRET_KEY": "image-test-secret-key-0123456789abcdefghij",
        "DATADSN_HTTPS": "0",
        "DATADSN_ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
    }
    flags = [f for k, v in env.items() for f in ("-e", f"{k}={v}")]
    # run is [..., "run", "--isolation", "chroot", container, "--"]: the options go before it.
    command = [*run[:4], "--network", "host", *flags, *run[4:], "datadsn-entrypoint.sh", "portal"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        end = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                home = _get(port, "/")
                break
            except OSError:
                assert time.monotonic() < end, "le portail ne répond pas"
                time.sleep(1)
        assert home.status == 200 and home.getheader("Server") == "gunicorn"
        assert _get(port, "/static/dsfr/dist/dsfr/dsfr.min.css").status == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_the_image_builds_from_debian_and_runs_datadsn(postgres_url: str) -> None:  # noqa: F811
    tag = f"localhost/datadsn-test:{uuid.uuid4().hex[:8]}"
    subprocess.run([str(ROOT / "scripts" / "build-image.sh"), tag], check=True, timeout=1800)
    container = ""
    try:
        container = subprocess.run(
            ["buildah", "from", tag], check=True, capture_output=True, text=True
        ).stdout.strip()
        # chroot isolation, as the build: runs where cgroups and rlimits cannot be set.
        run = ["buildah", "run", "--isolation", "chroot", container, "--"]
        # not root: the container's user, from its configuration (the output of `buildah run id
        # -un` came back empty once, at a load average of 8)
        user = subprocess.run(
            ["buildah", "inspect", "--format", "{{.OCIv1.Config.User}}", container],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert user == "datadsn"
        out = subprocess.run(
            [*run, "datadsn-entrypoint.sh", "datadsn", "--help"],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert "DataDSN : ingestion" in out and "serve" in out
        _serve_portal(run, postgres_url)
    finally:
        if container:
            subprocess.run(["buildah", "rm", container], check=False, capture_output=True)
        subprocess.run(["podman", "rmi", "-f", tag], check=False, capture_output=True)
