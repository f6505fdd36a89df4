"""Parity of the engines for flows: the same flow, run for the same month by DuckDB and by Spark
(``local[2]``) on two copies of the folder's warehouse (same snapshot, same suppression ledger),
delivers the same files: an indicator flow (CSV, Parquet, Excel) and a pseudonymised extract.
Byte for byte, but for the time written in a workbook and in an extract's metadata (as two runs
of one engine at different times would differ), where rows and metadata are compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from datadsn.engine.warehouse import Warehouse
from datadsn.flows.habilitation import HabInfo
from datadsn.flows.run import EXTRACT_SUFFIX, MANIFEST, run
from datadsn.flows.spec import FlowSpec, parse
from datadsn.indicators import release

from .conftest import Economy, hab_info

pytestmark = pytest.mark.spark
ENGINES = ("duckdb", "spark")
MONTH = "2023-03"
KEY = "cle-de-flux-pour-la-parite-des-moteurs-de-test"


@pytest.fixture(scope="module")
def stores(economy: Economy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Warehouse]:
    """One copy of the warehouse per engine (snapshot links kept as links)."""
    base = tmp_path_factory.mktemp("parite-flux")
    return {
        engine: Warehouse(Path(shutil.copytree(economy.store.root, base / engine, symlinks=True)))
        for engine in ENGINES
    }


def _delivered(stores: dict[str, Warehouse], spec: FlowSpec, hab: HabInfo) -> dict[str, Path]:
    out = {}
    for engine in ENGINES:
        done = run(spec, stores[engine], MONTH, hab, threads=2, engine=engine, master="local[2]")
        assert done.status == "livre", engine
        assert done.folder is not None
        out[engine] = done.folder
    return out


def _timed(name: str) -> bool:
    """Files that hold the time they were written: a workbook (openpyxl puts it in its
    properties and zip entries) and an extract (``genere_le``, in its metadata)."""
    return name.endswith(".xlsx") or EXTRACT_SUFFIX in name


def _untimed(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "genere_le"}


def assert_same_delivery(folders: dict[str, Path]) -> None:
    """Byte for byte, but for the writing time of the files that hold one."""
    duck, spark = folders["duckdb"], folders["spark"]
    names = sorted(p.name for p in duck.iterdir())
    assert names == sorted(p.name for p in spark.iterdir())
    for name in names:
        mine, theirs = duck / name, spark / name
        if name == MANIFEST:
            a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (mine, theirs))
            for m in (a, b):
                for f in m["fichiers"]:
                    if _timed(f["nom"]):  # the time changes its bytes, and its size
                        del f["sha256"], f["octets"]
            assert a == b
        elif name.endswith(".meta.json"):
            a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (mine, theirs))
            assert _untimed(a) == _untimed(b), name
        elif _timed(name):
            (t1, m1), (t2, m2) = release.read(mine), release.read(theirs)
            assert_frame_equal(t1, t2)
            assert _untimed(m1) == _untimed(m2), name
        else:
            assert mine.read_bytes() == theirs.read_bytes(), name


def test_an_indicator_flow_delivers_the_same_files(
    economy: Economy, stores: dict[str, Warehouse]
) -> None:
    spec = parse({
        "version": 1, "nom": "parite-indicateurs", "habilitation": "H1",
        "perimetre": {"regions": [economy.region]},
        "indicateurs": [{"code": "EFF_FIN", "dimensions": ["naf_section"]},
                        {"code": "EMBAUCHES", "dimensions": ["sexe"]}],
        "periodicite": "mois", "formats": ["csv", "parquet", "xlsx"],
    })  # fmt: skip
    folders = _delivered(stores, spec, hab_info(economy.region))
    assert {"parite-indicateurs_eff_fin.csv", "parite-indicateurs_embauches.xlsx",
            MANIFEST} <= {p.name for p in folders["duckdb"].iterdir()}  # fmt: skip
    assert_same_delivery(folders)


def test_an_extract_flow_delivers_the_same_files(
    economy: Economy, stores: dict[str, Warehouse], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATADSN_CLE_FLUX", KEY)
    spec = parse({
        "version": 1, "nom": "parite-cohorte", "habilitation": "H1",
        "perimetre": {"regions": [economy.region]},
        "extraction": {"colonnes": ["mois", "salarie_id", "sexe"], "mois": 1,
                       "niveau_age": "tranche_age_large"},
        "periodicite": "mois", "formats": ["parquet", "csv"],
    })  # fmt: skip
    scope = {**hab_info(economy.region).scope}
    scope["extraction"] = {**scope["extraction"], "population": "Cohorte des salariés"}
    folders = _delivered(stores, spec, hab_info(economy.region, scope=scope))
    extract = folders["duckdb"] / f"parite-cohorte{EXTRACT_SUFFIX}.csv"
    assert len(extract.read_text(encoding="utf-8").splitlines()) > 10
    assert_same_delivery(folders)
