"""Two runs protecting tables of one period at the same time: the second must read what the
first masked (the period's ledger lock is held from reading the ledger to recording)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.flows.run import run
from datadsn.indicators import publish as publish_module
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session
from datadsn.indicators.rules import Rules
from datadsn.indicators.suppression import Ledger
from tests.economy import consolidated_economy

from .conftest import hab_info
from .helpers import largest_region, masked_sections, region_flow

MONTH = "2023-02"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A warehouse of its own, its ledger empty when the two runs start."""
    return consolidated_economy(
        tmp_path_factory.mktemp("course"), employers=45, months=("2023-01", MONTH), seed=11
    )


def test_two_simultaneous_runs_of_one_period_agree_on_masked_cells(
    store: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = largest_region(store, MONTH)
    assert not Ledger(store.root).path(MONTH).exists()
    # Both runs meet right after reading the ledger: without the period's lock both have read
    # it empty before either records (the race); with it, the second waits for the first, the
    # meeting times out and the second reads the first's cells.
    meeting = threading.Barrier(2, timeout=3)
    forced = Ledger.forced

    def forced_then_meet(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        found = forced(self, *args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        if threading.current_thread().name == "flux":
            time.sleep(1)  # the flow records last, after the table
        return found

    monkeypatch.setattr(Ledger, "forced", forced_then_meet)
    table = tmp_path / "table.csv"
    spec = region_flow("effectifs-course", region)
    outcome: dict[str, Any] = {}

    def compute_table() -> None:
        session = Session(store, threads=1)
        try:
            publish_module.publish(
                session, get("EFF_FIN"), ["region", "naf_section"], MONTH, MONTH, "mois",
                Rules(), table, chart=False, ledger=Ledger(store.root),
            )  # fmt: skip
        except BaseException as exc:  # reported below, in the test's thread
            outcome["table"] = exc

    def deliver_flow() -> None:
        try:
            outcome["flow"] = run(spec, store, MONTH, hab_info(region), threads=1)
        except BaseException as exc:
            outcome["flow"] = exc

    workers = [
        threading.Thread(target=compute_table, name="tableau"),
        threading.Thread(target=deliver_flow, name="flux"),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert "table" not in outcome, outcome.get("table")
    delivered = outcome["flow"]
    assert not isinstance(delivered, BaseException), delivered
    in_table = masked_sections(table, region)
    in_flow = masked_sections(delivered.folder / "effectifs-course_eff_fin.csv", None)
    assert in_table and in_flow, "the région has masked sections in both tables"
    # Whichever recorded second masks everything the first masked in the région's sections.
    lines = Ledger(store.root).path(MONTH).read_text(encoding="utf-8").splitlines()
    flow_first = "regions" in json.loads(lines[0])["source"]
    first, second = (in_flow, in_table) if flow_first else (in_table, in_flow)
    assert first <= second, (first, second)
