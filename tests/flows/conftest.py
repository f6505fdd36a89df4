"""A small simulated, ingested and consolidated warehouse shared by the flow tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.flows.habilitation import HabInfo
from tests.economy import consolidated_economy

MONTHS = ("2023-01", "2023-03")


@dataclass(frozen=True)
class Economy:
    root: Path
    store: Warehouse
    region: str


@pytest.fixture(scope="session")
def economy(tmp_path_factory: pytest.TempPathFactory) -> Economy:
    from datadsn.indicators.compute import Session

    root = tmp_path_factory.mktemp("flux")
    # 45 employers: the largest région then has 9 enterprises (with 30 it had 2, a population
    # the flows refuse: fewer than 3 enterprises).
    store = consolidated_economy(root, employers=45, months=MONTHS, seed=11)
    session = Session(store, threads=2)
    session.prepare(MONTHS[1], MONTHS[1], "mois")
    row = session.con.execute(
        "SELECT d_region, count(*) AS n FROM ind_base_dims GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
    ).fetchone()
    session.close()
    assert row is not None
    return Economy(root, store, str(row[0]))


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
