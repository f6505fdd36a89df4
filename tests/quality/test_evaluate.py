"""`evaluate` scores every declared identity, and its measure can fail: a wrong merge or an
identity the truth does not explain shows in the figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from datadsn.quality import snapshot
from datadsn.quality.consolidate import consolidate
from datadsn.quality.evaluate import evaluate
from datadsn.quality.recall import CRITERIA

simulate = pytest.importorskip("datadsn.simulate").simulate
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Warehouse]:
    root = tmp_path_factory.mktemp("eval")
    simulate(root, employers=12, months="2023-01..2023-04", seed=3, noise="hard", write_dsnp3=False)
    store = Warehouse(root / "warehouse")
    ingest([root / "dsn"], store, Secret.from_env(demo=True), workers=1)
    for month in MONTHS:
        consolidate(store, month, threads=2)
    return root / "truth", store


def _copy(base: tuple[Path, Warehouse], tmp_path: Path) -> tuple[Path, Warehouse]:
    truth, store = base
    shutil.copytree(truth, tmp_path / "truth")
    shutil.copytree(store.root, tmp_path / "warehouse", symlinks=True)
    return tmp_path / "truth", Warehouse(tmp_path / "warehouse")


def test_every_declared_identity_is_scored(base: tuple[Path, Warehouse]) -> None:
    truth, store = base
    r = evaluate(store, truth)
    assert r["identites_non_evaluees"] == 0
    assert isinstance(r["identites_declarees"], int) and r["identites_declarees"] > 0
    kinds = r["par_anomalie"]
    assert isinstance(kinds, list) and kinds
    listed = set(pl.read_parquet(truth / "anomalies.parquet")["type"].to_list())
    assert {k["type"] for k in kinds} == listed
    for k in kinds:
        assert k["critere"] == CRITERIA[k["type"]]
        assert 0 <= k["resolus"] <= k["evenements"]
    by_kind = {k["type"]: k for k in kinds}
    # the ingestion rejects exactly the listed line defects
    for kind in ("malformed_line", "unknown_code"):
        if kind in by_kind:
            assert by_kind[kind]["rappel"] == 1.0


def test_an_identity_the_truth_does_not_explain_is_counted(
    base: tuple[Path, Warehouse], tmp_path: Path
) -> None:
    truth, store = _copy(base, tmp_path)
    ids = pl.read_parquet(truth / "identites_declarees.parquet")
    dropped = ids.filter(pl.col("contrat_id") == ids["contrat_id"].min())
    ids.filter(pl.col("contrat_id") != ids["contrat_id"].min()).write_parquet(
        truth / "identites_declarees.parquet"
    )
    r = evaluate(store, truth)
    assert r["identites_non_evaluees"] == dropped.height


def test_a_wrong_merge_lowers_the_f1(base: tuple[Path, Warehouse], tmp_path: Path) -> None:
    truth, store = _copy(base, tmp_path)
    before = evaluate(store, truth)
    folder = snapshot.snapshot_dir(store, MONTHS[-1]).resolve()
    for name, key, copy in (
        ("salaries", "salarie_id", "allocated_from_ett"),
        ("contrats", "contrat_id", "ett_contrat_id"),
    ):
        path = folder / f"{name}.parquet"
        rows = pl.read_parquet(path)
        # two rows of one establishment become one entity: a merge the truth does not make
        own = rows.filter(pl.col(copy).is_null())
        etab = own.group_by("etablissement_id").len().sort("len", descending=True)[0, 0]
        ids = own.filter(pl.col("etablissement_id") == etab)[key].sort().to_list()
        rows = rows.with_columns(
            pl.when(pl.col(key) == ids[1]).then(pl.lit(ids[0])).otherwise(pl.col(key)).alias(key)
        )
        path.unlink()  # a hard link shared with the earlier snapshots
        rows.write_parquet(path)
    after = evaluate(store, truth)
    assert after["salarie_precision"] < before["salarie_precision"]
    assert after["salarie_f1"] < before["salarie_f1"]
    assert after["contrat_f1"] < before["contrat_f1"]
