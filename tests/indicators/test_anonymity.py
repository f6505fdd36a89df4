"""k-anonymity and l-diversity measures on a hand-made table."""

from __future__ import annotations

import polars as pl
import pytest

from datadsn.indicators.anonymity import measure
from datadsn.indicators.extract import ExtractRefused, check
from datadsn.indicators.rules import Rules


def _table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "salarie_id": ["a", "a", "b", "c", "d", "e"],
            "sexe": ["01", "01", "01", "01", "02", "02"],
            "tranche_age": ["25-49 ans"] * 6,
            "naf": ["C"] * 6,
            "zone": ["11"] * 6,
            "nature_contrat": ["01"] * 6,
            "tranche_brut": ["< 1 500", "< 1 500", "1 500-2 499", "< 1 500", "nul", "nul"],
        }
    )


def test_measure_counts_persons_not_rows() -> None:
    quasi = ["sexe", "tranche_age", "naf", "zone", "nature_contrat"]
    m = measure(_table(), quasi, "salarie_id", "tranche_brut", k_min=3, l_min=2)
    assert (m.k, m.l, m.classes, m.below_k, m.below_l) == (2, 1, 2, 1, 1)
    assert m.example == {"sexe": "02", "tranche_age": "25-49 ans", "naf": "C", "zone": "11",
                         "nature_contrat": "01"}  # fmt: skip


def test_check_refuses_with_reasons_in_french() -> None:
    with pytest.raises(ExtractRefused) as info:
        check(_table(), Rules(k=3, l=2))
    text = str(info.value)
    assert "k-anonymat insuffisant" in text and "l-diversité insuffisante" in text
    assert "sexe=02" in text
    assert check(_table(), Rules(k=2, l=1)).k == 2


def test_local_suppression_drops_rare_classes_within_the_limit() -> None:
    from datadsn.indicators.extract import suppress_rare

    kept, share = suppress_rare(_table(), Rules(k=2, l=1, suppression_max_pct=50))
    assert set(kept["salarie_id"]) == {"a", "b", "c", "d", "e"} and share == 0.0
    kept, share = suppress_rare(_table(), Rules(k=3, l=1, suppression_max_pct=50))
    assert set(kept["salarie_id"]) == {"a", "b", "c"} and share == pytest.approx(40.0)
    assert check(kept, Rules(k=3, l=1)).k == 3
    with pytest.raises(ExtractRefused, match=r"retirerait 40\.0 %"):
        suppress_rare(_table(), Rules(k=3, l=1, suppression_max_pct=5))
