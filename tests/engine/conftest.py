"""A Spark Connect server for the tests that need one (``scripts/spark-connect.sh``, ``local[2]``,
a free port), started once per test run and stopped at its end. Its environment holds the key of
``CONNECT_KEY``, as a real server's holds the pseudonymisation key its executors read."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

CONNECT_KEY = "connect-test-key-of-at-least-32-bytes-0123456789"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "spark-connect.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ConnectServer:
    """Starting in the background from its creation (half a minute): ``url`` waits for it."""

    def __init__(self, state: Path):
        self.env = {
            **os.environ,
            "DATADSN_SPARK_CONNECT": str(state),
            "DATADSN_SECRET": CONNECT_KEY,
        }
        self.env.update(SPARK_CONNECT_PORT=str(free_port()), SPARK_CONNECT_MASTER="local[2]")
        self.env.pop("DATADSN_SECRET_FILE", None)
        self._start = subprocess.Popen(
            [SCRIPT, "start"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            out, err = self._start.communicate(timeout=300)
            assert self._start.returncode == 0, err
            self._url = out.strip().splitlines()[-1]
        return self._url

    def stop(self) -> None:
        self._start.kill()  # the script, if still waiting for the server
        subprocess.run([SCRIPT, "stop"], env=self.env, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    server = ConnectServer(tmp_path_factory.mktemp("serveur-connect"))
    try:
        yield server
    finally:
        server.stop()
