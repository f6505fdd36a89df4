"""A small simulated, ingested and consolidated warehouse shared by the flow tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.flows.habilitation import HabInfo
from tests.economy import consolidated_economy

from .helpers import largest_region

MONTHS = ("2023-01", "2023-03")


@dataclass(frozen=True)
class Economy:
    root: Path
    store: Warehouse
    region: str


@pytest.fixture(scope="session")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Economy:
    root = tmp_path_factory.mktemp("flux")
    # 45 employers: the largest région then has 9 enterprises (with 30 it had 2, a population
    # the flows refuse: fewer than 3 enterprises).
    store = consolidated_economy(root, employers=45, months=MONTHS, seed=11)
    return Economy(root, store, largest_region(store, MONTHS[1]))


def hab_info(region: str = "84", **changes: object) -> HabInfo:
    base: dict[str, object] = dict(
        reference="H1",
        organisation="Région A",
        siret="20000000000018",
        status="active",
        request_approved=True,
        start=date.today() - timedelta(days=1),
        end=date.today() + timedelta(days=365),
        scope={
            "indicateurs": ["EFF_FIN", "EMBAUCHES"],
            "extraction": {"population": "", "territoire": f"Région {region}"},
            "frequence": "mensuelle",
        },
    )
    base.update(changes)
    return HabInfo(**base)  # type: ignore[arg-type]
