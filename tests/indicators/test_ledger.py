"""The suppression ledger's file: appended under a lock, a line a killed run left unfinished."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from datadsn.indicators.suppression import Ledger


def _cells(*names: str, masked: bool = True) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "periode": ["2024-12"] * len(names),
            "population": [""] * len(names),
            "cellule": list(names),
            "masque_primaire": [masked] * len(names),
            "masque_secondaire": [False] * len(names),
        }
    )


def test_record_appends_only_new_cells_and_survives_a_torn_line(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    assert ledger.record(_cells("region=84", "region=11"), "EFF_FIN", "table A") == 2
    assert ledger.record(_cells("region=84"), "EFF_FIN", "table A") == 0  # already there
    assert ledger.record(_cells("region=53", masked=False), "EFF_FIN", "table A") == 0
    with ledger.path("2024-12").open("a", encoding="utf-8") as handle:
        handle.write('{"periode": "2024-12", "indic')  # a run killed while writing
    assert ledger.record(_cells("region=84", "region=93"), "EFF_FIN", "table B") == 2
    known = ledger.read(["2024-12"], with_source=True)
    assert sorted(zip(known["cellule"], known["source"], strict=True)) == [
        ("region=11", "table A"),
        ("region=84", "table A"),
        ("region=84", "table B"),
        ("region=93", "table B"),
    ]
    cells = _cells("region=84", "region=93", "region=11", "region=53")
    forced, kept = ledger.forced(cells, "EFF_FIN", "table B")
    assert forced.to_list() == [True, False, True, False]  # masked by another table
    assert kept.to_list() == [True, True, False, False]  # masked by this table before
    assert not any(ledger.forced(cells, "EFF_MOY", "table B")[0])  # per indicator
