"""Nothing lost, ever: real commands killed (SIGKILL) at each step of an ingestion and of a
publication, overlapping lots. After any kill the raw store and every published snapshot are
readable and unchanged, and the next run finishes the work with the result of an uninterrupted
one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from datadsn.engine import lots
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality.consolidate import consolidate
from datadsn.quality.snapshot import current_month, quality_root, snapshot_dir
from datadsn.simulate import simulate

DATADSN = Path(sys.executable).with_name("datadsn")
SECRET = "une-cle-de-test-de-trente-deux-octets-au-moins"
INGEST_POINTS = [
    "ingest.chunk",
    "ingest.parsed",
    "ingest.deduplicated",
    "ingest.committed",
    "ingest.catalogued",
]
PUBLISH_POINTS = ["publish.version", "publish.linked", "publish.current"]
RAW_TABLES = ("envoi", "declaration", "contrat", "remuneration", "rejections", "fichiers")


def run(*args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATADSN_SECRET": SECRET}
    env.pop("DATADSN_FAULT", None)
    if fault:
        env["DATADSN_FAULT"] = fault
    return subprocess.run(
        [str(DATADSN), *args], env=env, capture_output=True, text=True, timeout=600
    )


def raw_counts(wh: Path) -> dict[str, int]:
    store = Warehouse(wh)
    with store.connect() as con:
        served = set(store.raw_tables()) | {"rejections", "fichiers"}
        return {
            t: int(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0])  # type: ignore[index]
            for t in RAW_TABLES
            if t in served and store.scan_sql(t) is not None
        }


def quality_contents(wh: Path, month: str) -> dict[str, list[tuple]]:
    schema = "quality_" + month.replace("-", "_")
    with Warehouse(wh).connect() as con:
        return {
            table: sorted(con.execute(f"SELECT * FROM {schema}.{table}").fetchall(), key=repr)
            for table in ("salaries", "contrats", "contrats_mois", "activites", "declarations")
        }


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sim")
    return simulate(root / "sim", employers=6, months="2023-01..2023-02", seed=3, noise="none").out


@pytest.fixture(scope="module")
def ingested(sim: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the simulation, ingested once without fault."""
    wh = tmp_path_factory.mktemp("ingested") / "wh"
    done = run("ingest", str(sim / "dsn"), "-w", str(wh))
    assert done.returncode == 0, done.stderr
    return wh


def copy_of(wh: Path, tmp_path: Path) -> Path:
    target = tmp_path / "wh"
    shutil.copytree(wh, target, symlinks=True)
    return target


@pytest.mark.parametrize("point", INGEST_POINTS)
def test_killed_reingestion_keeps_the_lot_served(
    point: str, sim: Path, ingested: Path, tmp_path: Path
) -> None:
    """A re-ingestion used to delete the lot before rewriting it: killed, raw.contrat fell from
    7,290 rows to 2,507 and the catalogue served the partial lot."""
    expected = raw_counts(ingested)
    wh = copy_of(ingested, tmp_path)
    killed = run("ingest", str(sim / "dsn"), "-w", str(wh), fault=point)
    assert killed.returncode == -signal.SIGKILL
    assert raw_counts(wh) == expected
    again = run("ingest", str(sim / "dsn"), "-w", str(wh))
    assert again.returncode == 0, again.stderr
    assert raw_counts(wh) == expected
    store = Warehouse(wh)
    assert lots.unserved(store.data_folders, store.committed()) == []


@pytest.mark.parametrize("point", INGEST_POINTS[:3])
def test_killed_first_ingestion_is_never_consolidated(
    point: str, sim: Path, tmp_path: Path
) -> None:
    wh = tmp_path / "wh"
    killed = run("ingest", str(sim / "dsn"), "-w", str(wh), fault=point)
    assert killed.returncode == -signal.SIGKILL
    store = Warehouse(wh)
    assert store.raw_tables() == [] and store.committed() == {}
    refused = run("consolidate", "--through", "2023-02", "-w", str(wh))
    assert "ingestion interrompue" in refused.stderr
    assert current_month(store) is None
    again = run("ingest", str(sim / "dsn"), "-w", str(wh))
    assert again.returncode == 0, again.stderr
    assert raw_counts(wh)["declaration"] > 0
    assert lots.unserved(store.data_folders, store.committed()) == []


@pytest.fixture(scope="module")
def consolidated(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    wh = copy_of(ingested, tmp_path_factory.mktemp("consolidated"))
    done = run("consolidate", "--through", "2023-02", "-w", str(wh))
    assert done.returncode == 0, done.stderr
    return wh


@pytest.mark.parametrize("point", PUBLISH_POINTS)
@pytest.mark.parametrize("month", ["2023-02", "2023-01"])
def test_killed_publication_leaves_every_snapshot_readable(
    point: str, month: str, consolidated: Path, ingested: Path, tmp_path: Path
) -> None:
    """2023-02 published again (the current month), and 2023-02 published for the first time
    after 2023-01. A kill between the two renames of a month published again used to leave
    CURRENT naming a missing folder, and the next run deleted the set-aside copy."""
    expected = quality_contents(consolidated, "2023-02")
    if month == "2023-02":
        wh = copy_of(consolidated, tmp_path)
    else:
        wh = copy_of(ingested, tmp_path)
        assert run("consolidate", "--month", "2023-01", "-w", str(wh)).returncode == 0
    store = Warehouse(wh)
    killed = run("consolidate", "--month", "2023-02", "-w", str(wh), fault=point)
    assert killed.returncode == -signal.SIGKILL
    current = (quality_root(store) / "CURRENT").read_text().strip()
    assert current_month(store) == current  # CURRENT names a folder that exists
    for published in ("2023-01", current):
        assert any(snapshot_dir(store, published).glob("*.parquet"))
    again = run("consolidate", "--month", "2023-02", "-w", str(wh))
    assert again.returncode == 0, again.stderr
    assert current_month(store) == "2023-02"
    assert quality_contents(wh, "2023-02") == expected
    hidden = [p.name for p in quality_root(store).iterdir() if p.name.startswith(".")]
    linked = [os.readlink(p) for p in quality_root(store).iterdir() if p.is_symlink()]
    assert sorted(hidden) == sorted([store.consolidation_lock.name, *linked])


def _consolidated_figures(wh: Path) -> list[tuple]:
    store = Warehouse(wh)
    for month in ("2023-01", "2023-02"):
        consolidate(store, month)
    with store.connect() as con:
        return con.execute(
            """SELECT m.mois, count(*), sum(m.remuneration_brute),
                 (SELECT sum(heures_standards_remunerees) FROM activites a WHERE a.mois = m.mois),
                 (SELECT count(*) FROM quality_2023_02.declarations d WHERE d.mois = m.mois)
               FROM contrats_mois m GROUP BY m.mois ORDER BY m.mois"""
        ).fetchall()


def test_overlapping_lots_store_each_declaration_once(sim: Path, tmp_path: Path) -> None:
    """`ingest sim/dsn` then `ingest sim/dsn/<month>`, then `consolidate`, used to exit 0 with
    the month's contract-month rows gone and its hours divided by 160. Any order and any
    combination of overlapping lots now stores and consolidates the same."""
    secret = Secret(SECRET.encode(), demo=False)
    whole, month = sim / "dsn", sim / "dsn" / "2023-02"
    alone = Warehouse(tmp_path / "alone")
    ingest([whole], alone, secret)
    orders = {"folder then month": [whole, month], "month then folder": [month, whole]}
    declared = ("envoi", "declaration", "contrat", "remuneration")
    expected = {t: n for t, n in raw_counts(alone.root).items() if t in declared}
    figures = {}
    for name, paths in orders.items():
        store = Warehouse(tmp_path / name.replace(" ", "-"))
        summaries = [ingest([p], store, secret) for p in paths]
        assert all(s.reconciled for s in summaries)
        assert summaries[1].declarations_duplicated > 0
        assert {t: raw_counts(store.root)[t] for t in declared} == expected
        # the subset once more, and one of its files under another name, change nothing
        renamed = tmp_path / name.replace(" ", "-") / "copie" / "renomme.dsn"
        renamed.parent.mkdir()
        shutil.copy(next(month.glob("*.dsn")), renamed)
        assert ingest([month], store, secret).reconciled
        again = ingest([renamed], store, secret)
        assert again.declarations_duplicated == 1 and again.reconciled
        assert again.lines_stored == 0 and again.lines_duplicated == again.lines_read
        assert {t: raw_counts(store.root)[t] for t in declared} == expected
        figures[name] = _consolidated_figures(store.root)
    reference = _consolidated_figures(alone.root)
    assert all(f[1] > 0 for f in reference)
    assert figures == {name: reference for name in orders}
