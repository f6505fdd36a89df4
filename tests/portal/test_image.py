"""The container image, built by scripts/build-image.sh from Debian's mirror (no Docker Hub),
then its entrypoint run inside it. Needs root, podman, buildah and debootstrap (all from Debian's
packages); skipped elsewhere. The first run makes the base image (about a minute), later runs
reuse it and rebuild the project's layers."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or not all(shutil.which(t) for t in ("podman", "buildah", "debootstrap")),
        reason="needs root, podman, buildah and debootstrap (apt-get install podman buildah "
        "debootstrap)",
    ),
]


def test_the_image_builds_from_debian_and_runs_datadsn() -> None:
    tag = f"localhost/datadsn-test:{uuid.uuid4().hex[:8]}"
    subprocess.run([str(ROOT / "scripts" / "build-image.sh"), tag], check=True, timeout=1800)
    container = ""
    try:
        container = subprocess.run(
            ["buildah", "from", tag], check=True, capture_output=True, text=True
        ).stdout.strip()
        # chroot isolation, as the build: runs where cgroups and rlimits cannot be set.
        run = ["buildah", "run", "--isolation", "chroot", container, "--"]
        who = subprocess.run([*run, "id", "-un"], check=True, capture_output=True, text=True)
        assert who.stdout.strip() == "datadsn"  # not root
        out = subprocess.run(
            [*run, "datadsn-entrypoint.sh", "datadsn", "--help"],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert "DataDSN : ingestion" in out and "serve" in out
    finally:
        if container:
            subprocess.run(["buildah", "rm", container], check=False, capture_output=True)
        subprocess.run(["podman", "rmi", "-f", tag], check=False, capture_output=True)
