"""A small simulated economy (no noise), ingested and consolidated once for the whole folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from datadsn.engine.warehouse import Warehouse
from tests.economy import consolidated_economy

MONTHS = ("2023-01", "2023-06")


@dataclass(frozen=True)
class Economy:
    root: Path
    truth: Path
    store: Warehouse


@pytest.fixture(scope="session")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Economy:
    root = tmp_path_factory.mktemp("economie")
    store = consolidated_economy(root, employers=40, months=MONTHS, seed=7)
    return Economy(root=root, truth=root / "truth", store=store)


@pytest.fixture(scope="session")
def session(economy: Economy):
    from datadsn.indicators.compute import Session

    s = Session(economy.store)
    yield s
    s.close()
