"""``datadsn bench portal`` runs (with few requests): the figures themselves are not tested."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner


def test_bench_portal_runs_with_few_requests(monkeypatch: Any) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from datadsn.cli import app

    result = CliRunner().invoke(
        app, ["bench", "portal", "--clients", "2", "--requests", "4", "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    for page in ("accueil", "catalogue", "demande (connect\\u00e9)", "API"):
        assert f'"{page} p95 (ms)"' in result.output
        assert f'"{page} erreurs": 0' in result.output


@pytest.mark.parametrize(("q", "expected"), [(0.5, 2), (0.95, 4), (1.0, 4)])
def test_percentile_is_nearest_rank(q: float, expected: int) -> None:
    from datadsn.bench.portal import percentile

    assert percentile([1, 2, 3, 4], q) == expected
