"""Spark Connect: a month of the world of ``tests/quality/world.py`` ingested and consolidated
through a Spark Connect server, and an indicator computed through it, equal to DuckDB's.

The server is the one ``scripts/spark-connect.sh`` starts (``conftest.py``: ``local[2]``, a free
port, the pseudonymisation key in its environment as a real server's executors hold it); the test
process reaches it through ``SPARK_REMOTE`` only, as the commands do. The months before run on
DuckDB in both warehouses (a month's state is files, whichever engine wrote them): one month on
Connect keeps the test short; ``test_spark_parity.py`` covers the six months on a classic session.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator

import pytest
from polars.testing import assert_frame_equal

from datadsn.engine.backends import EngineError, spark
from datadsn.engine.backends.spark import REMOTE_ENV, get_session, is_classic
from datadsn.engine.warehouse import Warehouse
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session
from datadsn.indicators.publish import protected_table
from datadsn.indicators.rules import Rules
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality.consolidate import consolidate
from datadsn.quality.snapshot import snapshot_dir
from tests.engine.conftest import CONNECT_KEY, ConnectServer, free_port
from tests.engine.parity import assert_same_files_and_schemas, count, differing_tables
from tests.quality import world
from tests.quality.scenario import Scenario

RUN_TIME = dt.datetime(2024, 1, 31, 12, 0)
# change blocks (merges), a declaration in two fractions, a duplicate send, ends of contracts
CONNECTED = "2023-03"


@pytest.fixture(scope="module")
def stores(
    connect_server: ConnectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, Warehouse]]:
    """(DuckDB's warehouse, the one whose month ``CONNECTED`` ran on Spark Connect), with
    ``SPARK_REMOTE`` naming the server for the module's tests (which starts while DuckDB
    consolidates the months before)."""
    scenario = Scenario(tmp_path_factory.mktemp("connect"))
    secret = Secret(CONNECT_KEY.encode(), demo=False)
    duck, connect = scenario.store, Warehouse(scenario.root / "warehouse-connect")
    with pytest.MonkeyPatch.context() as patch:
        for month in world.MONTHS[: world.MONTHS.index(CONNECTED) + 1]:
            paths = [scenario.write(d) for d in world.declarations(month)]
            engine = "duckdb"
            if month == CONNECTED:
                patch.setenv(REMOTE_ENV, connect_server.url)
                engine = "spark"
            for store, on in ((duck, "duckdb"), (connect, engine)):
                ingest(paths, store, secret, workers=1 if on == "duckdb" else None, engine=on)
                consolidate(
                    store, month, threads=2, refresh_catalog=False, clock=lambda: RUN_TIME,
                    engine=on,
                )  # fmt: skip
        yield duck, connect


@pytest.mark.spark
def test_the_runs_went_through_spark_connect(stores: tuple[Warehouse, Warehouse]) -> None:
    assert os.environ[REMOTE_ENV].startswith("sc://127.0.0.1:")
    assert not is_classic(get_session())


@pytest.mark.spark
def test_a_month_over_connect_publishes_duckdbs_tables(stores: tuple[Warehouse, Warehouse]) -> None:
    duck, connect = stores
    assert differing_tables(duck, connect, CONNECTED) == []
    assert_same_files_and_schemas(duck, connect, CONNECTED)
    # the month holds what it is chosen for: merges by change blocks, a fractioned declaration
    month = snapshot_dir(duck, CONNECTED)
    assert count(month, "fusions", f"mois = DATE '{CONNECTED}-01'") > 0
    assert count(month, "declarations", f"siret = '{world.F}' AND mois = DATE '{CONNECTED}-01'") > 1


@pytest.mark.spark
def test_an_indicator_over_connect_is_duckdbs(stores: tuple[Warehouse, Warehouse]) -> None:
    """The cells, values and masks of one indicator, from the same warehouse on each engine."""
    duck, _ = stores
    indicator = get("EFF_MOY")
    tables = []
    for engine in ("duckdb", "spark"):
        session = Session(duck, threads=2, engine=engine)
        try:
            window = (world.MONTHS[0], CONNECTED, "mois")
            by = list(indicator.par_defaut)
            tables.append(protected_table(session, indicator, by, *window, Rules())[0])
        finally:
            session.close()
    assert tables[0].height > 0
    assert_frame_equal(tables[0], tables[1], check_exact=True)


# --- refusals, before any session (no server, no Java needed) ------------------------------


def test_an_unreachable_server_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not the client's minutes of retries: one French line naming the server."""
    monkeypatch.setattr(spark, "_sessions", {})
    port = free_port()  # nothing listens there
    monkeypatch.setenv(REMOTE_ENV, f"sc://127.0.0.1:{port}")
    with pytest.raises(EngineError, match=rf"Connect injoignable \(127.0.0.1:{port}\) : "):
        get_session()
    assert spark._sessions == {}


def test_missing_connect_packages_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark, "_sessions", {})
    monkeypatch.setitem(sys.modules, "pyspark.sql.connect.session", None)
    monkeypatch.setenv(REMOTE_ENV, "sc://127.0.0.1:15002")
    with pytest.raises(EngineError, match=r"Spark Connect indisponible : .*pyspark\[connect\]"):
        get_session()


def test_an_address_that_is_not_a_server_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """PySpark's ``local[N]`` remote would start a server on the fixed port 15002 in this
    process: refused, the message says how to start one."""
    monkeypatch.setattr(spark, "_sessions", {})
    monkeypatch.setenv(REMOTE_ENV, "local[2]")
    with pytest.raises(EngineError, match=r"sc://hôte:port \(scripts/spark-connect.sh start"):
        get_session()


def test_a_session_whose_server_is_gone_is_not_released_at_exit() -> None:
    """A test run stops its server before the process exits: releasing the session then made
    the client retry for minutes (eight, at the end of ``make test``)."""

    class Session:
        stopped = False

        def stop(self) -> None:
            self.stopped = True

    session = Session()
    spark._release(f"sc://127.0.0.1:{free_port()}", session)  # nothing listens there
    assert not session.stopped
