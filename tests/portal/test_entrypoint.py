"""The container's entrypoint (scripts/datadsn-entrypoint.sh) run on the host with PostgreSQL.

The script the image runs (the image itself is built by tests/portal/test_image.py where
podman is installed) is exercised as is: the monthly chain on a small simulated batch, run twice
(the second run finds nothing new), then the daily jobs. PostgreSQL is the one named by a
``postgres://`` DATABASE_URL (as scripts/test-postgres.sh sets it) or, as root, a throwaway
cluster started by the test; elsewhere the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "scripts" / "datadsn-entrypoint.sh"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    cluster = None
    if not url.startswith("postgres"):
        initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if os.geteuid() != 0 or not initdb or not pg_ctl:
            pytest.skip(
                "PostgreSQL indisponible : lancez en root, ou avec DATABASE_URL=postgres://"
            )
        cluster = Path(tempfile.mkdtemp(prefix="datadsn-pg-"))
        shutil.chown(cluster, "postgres")
        port = _free_port()
        data = cluster / "data"
        as_pg = ["su", "postgres", "-s", "/bin/sh", "-c"]
        subprocess.run([*as_pg, f"{initdb} -D {data} -A trust -U datadsn >/dev/null"], check=True)
        subprocess.run(
            [
                *as_pg,
                f"{pg_ctl} -D {data} -l {cluster}/log -w start "
                f"-o '-p {port} -k {cluster} -c listen_addresses=127.0.0.1' >/dev/null",
            ],
            check=True,
        )
        url = f"postgres://datadsn@127.0.0.1:{port}/postgres"
    # A database of its own, dropped afterwards.
    name = f"datadsn_entrypoint_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if cluster is not None:
            subprocess.run(
                [
                    "su",
                    "postgres",
                    "-s",
                    "/bin/sh",
                    "-c",
                    f"pg_ctl -D {cluster}/data -w stop -m fast",
                ],
                check=False,
                capture_output=True,
            )
            shutil.rmtree(cluster, ignore_errors=True)


def run(home: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DATADSN_HOME": str(home),
        "DATABASE_URL": url,
        "DATADSN_DATADSN": str(BIN / "datadsn"),
        "DATADSN_SECRET": "cle-de-pseudonymisation-de-test-0123456789abcdef",
        "DATADSN_SECRET_KEY": "tests-only-secret-key-0123456789abcdef",
        "DATADSN_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def datadsn(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "datadsn"), *args], capture_output=True, text=True, check=False
    )


def test_monthly_chain_then_daily_jobs_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    batch = tmp_path / "batch"
    sim = datadsn(
        "simulate", "--employers", "3", "--months", "2024-01..2024-02", "--out", str(batch),
        "--seed", "7", "--no-dsnp3",
    )  # fmt: skip
    assert sim.returncode == 0, sim.stderr
    (home / "inbox").mkdir(parents=True)
    shutil.move(str(batch / "dsn"), str(home / "inbox" / "dsn"))

    first = run(home, postgres_url, "chain", "2024-02")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "consolidation jusqu'à 2024-02" in first.stdout
    assert "rappel(s) de fin d'habilitation" in first.stdout
    assert (home / "state" / "last-chain").read_text().strip() == "2024-02"
    assert not list((home / "inbox").iterdir())  # archived, not read again
    assert list((home / "archive" / "2024-02").iterdir())
    tables = datadsn(
        "sql", "SELECT count(*) AS n FROM information_schema.tables",
        "-w", str(home / "warehouse"), "--format", "csv",
    )  # fmt: skip
    assert tables.returncode == 0 and int(tables.stdout.split()[-1]) > 0

    again = run(home, postgres_url, "chain", "2024-02")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "aucun fichier à ingérer" in again.stdout

    daily = run(home, postgres_url, "daily")
    assert daily.returncode == 0, daily.stdout + daily.stderr
    assert "Journal intègre" in daily.stdout
    assert (home / "state" / "last-daily").exists()

    bad = run(home, postgres_url, "chain", "2024-13")
    assert bad.returncode == 2 and "mois invalide" in bad.stderr
