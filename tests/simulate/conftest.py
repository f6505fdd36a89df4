"""Small simulations shared by the simulator tests (generated once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from datadsn.simulate import SimulationResult, runner, simulate

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("sim_none")
    # Small batches exercise the month-splitting path (several batches per month).
    saved, runner.BATCH_ROWS = runner.BATCH_ROWS, 300
    try:
        return simulate(out, employers=120, months="2023-11..2024-04", seed=11, noise="none")
    finally:
        runner.BATCH_ROWS = saved


@pytest.fixture(scope="session")
def noisy_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("sim_heavy")
    return simulate(out, employers=100, months="2023-01..2023-05", seed=5, noise="heavy")


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("sim_default")
    return simulate(out, employers=250, months="2023-01..2023-06", seed=2, noise="default")
