"""The indicator session reads the current quality snapshot's files, not the catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datadsn.engine.warehouse import Warehouse
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import IndicatorError, Session, compute_cells, settled

from .conftest import MONTHS, Economy


def test_a_session_needs_the_snapshot_not_the_catalogue(
    economy: Economy, session: Session, tmp_path: Path
) -> None:
    copy = Warehouse(Path(shutil.copytree(economy.store.root, tmp_path / "wh", symlinks=True)))
    copy.catalog.unlink()
    window = (MONTHS[0], MONTHS[1], "trimestre")
    alone = Session(copy)
    try:
        got = compute_cells(alone, get("EFF_MOY"), ["naf_section"], *window)
    finally:
        alone.close()
    assert_frame_equal(got, compute_cells(session, get("EFF_MOY"), ["naf_section"], *window))
    (copy.root / "quality" / "CURRENT").unlink()
    with pytest.raises(IndicatorError, match="aucun instantané de qualité"):
        Session(copy)


def test_cells_sums_are_rounded_to_ten_significant_digits() -> None:
    cells = pl.DataFrame({"num": [1 / 3, 123456.78901234567, 0.0], "nb_salaries": [1, 2, 3]})
    out = settled(cells)
    assert out["num"].to_list() == [0.3333333333, 123456.789, 0.0]
    assert out["nb_salaries"].to_list() == [1, 2, 3]
