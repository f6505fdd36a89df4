"""The benchmark runs end to end on a tiny synthetic snapshot (CI only checks that it runs)."""

from __future__ import annotations

from datadsn.bench.indicators import bench_indicators, bench_release
from datadsn.indicators.catalogue import CATALOGUE


def test_bench_runs_the_whole_catalogue() -> None:
    figures = bench_indicators(employees=600, months=3)
    assert figures["postes_mois"] > 0
    assert set(figures["par_indicateur_s"]) == {ind.code for ind in CATALOGUE}
    assert figures["extrapolation_1M_s"] > 0
    assert figures["avec_secret_et_audit_s"] >= figures["dont_audit_s"] > 0
    assert figures["rapport_secret"] > 0


def test_bench_times_the_monthly_release() -> None:
    figures = bench_release(employees=1000, months=2, repeats=1)
    assert figures["cases_masquees"] > 0
    assert figures["publication_mediane_s"] == figures["publication_runs_s"][0] > 0
