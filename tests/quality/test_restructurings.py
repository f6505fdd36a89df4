"""Establishments split in two SIRETs or merged into one (issue 22, hard noise): a moved contract
is one contract per SIRET, the old one ending the day before the move, with or without the change
block that carries the former SIRET (S21.G00.41.012)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.quality.scenario import Contrat, Salarie, Scenario, declaration

A, B = "12345678200012", "12345678200038"
MOVE = "2023-03-01"


def _months(block: bool) -> list[str]:
    # without a block the old contract is closed by 3 months of absence (March to May)
    return [f"2023-0{i}" for i in range(1, 4 if block else 6)]


def _staying() -> Salarie:
    return Salarie("1850575123456", "DURAND", contrats=[Contrat("C0001", "2020-01-01")])


def _moving(block: bool, month: str) -> Salarie:
    """The moving employee; in the month of the move, at B, with or without 41.012 = A."""
    changes = [{"date": MOVE, "siret": A}] if block and month == MOVE[:7] else []
    return Salarie(
        "2900675123488", "MARTIN", contrats=[Contrat("C0002", "2019-06-01", changements=changes)]
    )


def _old_and_new(sc: Scenario) -> tuple[dict, dict]:
    etabs = {e["etablissement_id"]: e["siret"] for e in sc.table("etablissements")}
    rows = {etabs[c["etablissement_id"]]: c for c in sc.table("contrats") if c["numero"] == "C0002"}
    assert set(rows) == {A, B}
    return rows[A], rows[B]


@pytest.mark.parametrize("block", [True, False])
def test_a_split_ends_the_moved_contract_the_day_before(tmp_path: Path, block: bool) -> None:
    """A keeps one employee, the other goes on at the new SIRET B from March."""
    sc = Scenario(tmp_path)
    for month in _months(block):
        if month < MOVE[:7]:
            sc.run(month, declaration(month, A, [_staying(), _moving(block, month)]))
        else:
            sc.run(
                month,
                declaration(month, A, [_staying()]),
                declaration(month, B, [_moving(block, month)]),
            )
    old, new = _old_and_new(sc)
    assert old["date_fin_effective"] == dt.date(2023, 2, 28)
    assert old["statut_fin"] == (2 if block else 1)
    if block:
        assert new["date_debut_effective"] == dt.date(2023, 3, 1)
    assert new["statut_fin"] is None
    kept = [c for c in sc.table("contrats") if c["numero"] == "C0001"]
    assert len(kept) == 1 and kept[0]["statut_fin"] is None


@pytest.mark.parametrize("block", [True, False])
def test_a_merged_site_that_stops_declaring_ends_its_contracts_the_day_before(
    tmp_path: Path, block: bool
) -> None:
    """A stops declaring after February; its employee goes on at B (the head office)."""
    sc = Scenario(tmp_path)
    for month in _months(block):
        if month < MOVE[:7]:
            sc.run(
                month,
                declaration(month, A, [_moving(block, month)]),
                declaration(month, B, [_staying()]),
            )
        else:
            sc.run(month, declaration(month, B, [_staying(), _moving(block, month)]))
    old, new = _old_and_new(sc)
    assert old["date_fin_effective"] == dt.date(2023, 2, 28)
    assert old["statut_fin"] == (2 if block else 1)
    assert new["statut_fin"] is None
    assert len({c["salarie_id"] for c in sc.table("contrats")}) == 3  # one employee per SIRET
