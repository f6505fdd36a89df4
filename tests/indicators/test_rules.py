"""Protection intervals of at least max(protection_min, protection_pct %), configurable."""

from __future__ import annotations

from pathlib import Path

import pytest

from datadsn.indicators.rules import Rules, RulesError


def test_default_interval_is_max_of_3_and_10_percent() -> None:
    rules = Rules()
    assert rules.protection(2) == 3  # a masked 2 may not be pinned to [2, 3]
    assert rules.protection(1000) == 100
    assert rules.protection(12_345.0, counts=False) == pytest.approx(1234.5)


def test_interval_is_configurable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "regles.toml"
    path.write_text("[secret]\nprotection_pct = 20\nprotection_min = 5\n", encoding="utf-8")
    rules = Rules.load(path)
    assert (rules.protection(10), rules.protection(100)) == (5, 20)
    for bad in ("protection_pct = 0", "protection_pct = 150", "protection_min = -1"):
        path.write_text(f"[secret]\n{bad}\n", encoding="utf-8")
        with pytest.raises(RulesError, match="protection"):
            Rules.load(path)
