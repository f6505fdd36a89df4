"""A small simulated economy (no noise), ingested and consolidated once for the whole folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from datadsn.engine.warehouse import Warehouse

MONTHS = ("2023-01", "2023-06")


@dataclass(frozen=True)
class Economy:
    root: Path
    truth: Path
    store: Warehouse


@pytest.fixture(scope="session")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Economy:
    from datadsn.ingest.pseudonymize import Secret
    from datadsn.ingest.run import ingest
    from datadsn.quality import consolidate, pending_months
    from datadsn.simulate import simulate

    root = tmp_path_factory.mktemp("economie")
    sim = simulate(
        root, employers=40, months=f"{MONTHS[0]}..{MONTHS[1]}", seed=7, noise="none",
        write_dsnp3=False,
    )  # fmt: skip
    store = Warehouse(root / "wh")
    ingest([sim.out / "dsn"], store, Secret(b"k", demo=True), workers=1)
    for month in pending_months(store, MONTHS[1]):
        consolidate(store, month, threads=2)
    return Economy(root=root, truth=root / "truth", store=store)


@pytest.fixture(scope="session")
def session(economy: Economy):
    from datadsn.indicators.compute import Session

    s = Session(economy.store)
    yield s
    s.close()
