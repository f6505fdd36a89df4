"""Fault injection for the crash tests: a process whose ``DATADSN_FAULT`` names a point is
killed (SIGKILL, as by the OOM killer or a power cut of the process) when it reaches it.

Points are named ``<stage>.<step>`` (``ingest.commit``, ``publish.set-aside``...): the tests
kill a real command at each step of ingestion and publication and check that the warehouse is
readable and that the next run finishes or undoes what was left.
"""

from __future__ import annotations

import os
import signal

ENV = "DATADSN_FAULT"


def point(name: str) -> None:
    """Die here if the environment asks for a fault at ``name`` (a no-op otherwise)."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
