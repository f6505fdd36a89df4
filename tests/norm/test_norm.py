"""The shipped NEODES catalogue: reproducible from the official workbooks, coherent, versioned."""

from __future__ import annotations

import warnings

import pytest

from datadsn.norm import DATA_DIR, NormVersionWarning, available_versions, load_norm
from datadsn.norm.generate import generate
from tests.conftest import SHARED

WORKBOOKS = sorted((SHARED / "corpus" / "neodes_spec").glob("dsn-datatypes-*.xlsx"))


def test_shipped_catalogue_is_what_the_generator_writes(tmp_path):
    assert len(WORKBOOKS) == 2
    written = generate(WORKBOOKS, tmp_path)
    assert sorted(p.name for p in written) == ["P24V01.json", "P26V01.json"]
    for path in written:
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


@pytest.mark.parametrize("version", ["P24V01", "P26V01"])
def test_catalogue_is_coherent(version):
    norm = load_norm(version)
    assert len(norm.blocks) == 62 and 560 < len(norm.rubriques) < 600
    for block in norm.blocks.values():
        assert block.parent is None or norm.blocks[block.parent].order < block.order
        columns = [r.column for r in norm.block_rubriques(block.id)]
        assert len(columns) == len(set(columns)), block.id
    assert len({b.table for b in norm.blocks.values()}) == len(norm.blocks)
    assert norm.blocks["S21.G00.53"].parent == "S21.G00.51"
    assert norm.blocks["S21.G00.85"].parent == "S20.G00.05"
    assert norm.rubriques["S21.G00.40.007"].codes["03"].startswith("Contrat")


def test_norm_differences_between_years():
    p24, p26 = load_norm("P24V01"), load_norm("P26V01")
    assert "S21.G00.11.008" in p24.rubriques and "S21.G00.11.008" not in p26.rubriques
    assert "10" in p26.rubriques["S20.G00.05.001"].codes
    assert "10" not in p24.rubriques["S20.G00.05.001"].codes
    # One rubrique, one column name, whatever the year.
    shared = set(p24.rubriques) & set(p26.rubriques)
    assert all(p24.rubriques[r].column == p26.rubriques[r].column for r in shared)


def test_unknown_versions_map_to_the_nearest_with_a_warning():
    assert available_versions() == ["P24V01", "P26V01"]
    with pytest.warns(NormVersionWarning, match="P24V01"):
        assert load_norm.__wrapped__("P03V01").version == "P24V01"
    with pytest.warns(NormVersionWarning, match="P26V01"):
        assert load_norm.__wrapped__("P25V01").version == "P26V01"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_norm("P26V01").version == "P26V01"
