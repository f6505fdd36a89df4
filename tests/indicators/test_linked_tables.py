"""Tables of nested dimensions, held together: by région and by département, by NAF section
and by A88 division. Protected one by one, the masked cells of one were recomputed from the
other (13 exact on the demo by territory, 17 headcounts and 18 payrolls by activity). Each is
now a slice of one cube protected as a whole, and an attacker's linear programme over both
files, with the public nesting of codes, pins no masked cell narrower than its protection."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from datadsn.indicators.audit import attack
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session
from datadsn.indicators.hierarchies import ancestors, protection_dims
from datadsn.indicators.publish import publish
from datadsn.indicators.rules import Rules
from tests.economy import consolidated_economy

publish_module = importlib.import_module("datadsn.indicators.publish")

MONTH = "2023-01"
RULES = Rules(protection_min=3)  # max(3, 10 %), the level the attack must not beat
CODES = ("EFF_FIN", "MASSE_SALARIALE")
PAIRS = (("region", "departement"), ("naf_section", "naf_a88"))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("emboitees")
    store = consolidated_economy(root, employers=300, months=(MONTH, MONTH), seed=2024)
    opened = Session(store)
    yield opened
    opened.close()


def released(session: Session, code: str, pair: tuple[str, ...], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for dim in pair:
        out = folder / f"{code.lower()}_{dim}.parquet"
        publish(session, get(code), [dim], MONTH, MONTH, "mois", RULES, out, chart=False)
        paths.append(out)
    return paths


def test_tables_protected_one_by_one_give_masked_cells_away(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack, replayed on the former protection (each table alone)."""
    monkeypatch.setattr(publish_module, "protection_dims", lambda dims, allowed: list(dims))
    pinned = {
        (code, pair): attack(released(session, code, pair, tmp_path / f"{code}-{pair[0]}"))
        for code in CODES
        for pair in PAIRS
    }
    assert all(pinned.values()), {k: len(v) for k, v in pinned.items()}


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("code", CODES)
def test_linked_tables_pin_no_masked_cell(
    session: Session, code: str, pair: tuple[str, str], tmp_path: Path
) -> None:
    paths = released(session, code, pair, tmp_path)
    assert attack(paths) == []
    assert all(attack([p]) == [] for p in paths)


def test_the_cube_crosses_in_the_levels_above_and_the_default_depth() -> None:
    allowed = ("region", "departement", "commune", "naf_section", "naf_a38", "naf_a88", "sexe")
    assert protection_dims(["region"], allowed) == ["region", "departement"]
    # with another dimension: the levels above only
    assert protection_dims(["departement", "sexe"], allowed) == ["departement", "sexe", "region"]
    assert protection_dims(["naf_section", "sexe"], allowed) == ["naf_section", "sexe"]
    assert protection_dims(["commune"], allowed) == ["commune", "region", "departement"]
    assert protection_dims(["naf_section"], allowed) == ["naf_section", "naf_a38", "naf_a88"]
    assert protection_dims(["sexe"], allowed) == ["sexe"]
    # two hierarchies crossed: the levels above each, not the default depths
    assert protection_dims(["naf_section", "departement"], allowed) == [
        "naf_section",
        "departement",
        "region",
    ]


def test_public_nesting_of_codes() -> None:
    assert ancestors("departement", "75") == {"region": "11"}
    assert ancestors("commune", "69123") == {"departement": "69", "region": "84"}
    assert ancestors("naf_a88", "62") == {"naf_a38": "JC", "naf_section": "J"}
    assert ancestors("departement", "inconnu") == {"region": "inconnu"}


def test_the_audit_command_attacks_the_files_together(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from datadsn.cli import app

    safe = released(session, "EFF_FIN", PAIRS[0], tmp_path / "joint")
    monkeypatch.setattr(publish_module, "protection_dims", lambda dims, allowed: list(dims))
    alone = released(session, "EFF_FIN", PAIRS[0], tmp_path / "alone")
    runner = CliRunner()
    ok = runner.invoke(app, ["indicators", "audit", *map(str, safe)])
    assert ok.exit_code == 0, ok.output
    assert "aucune case masquée recalculable" in ok.output
    broken = runner.invoke(app, ["indicators", "audit", *map(str, alone)])
    assert broken.exit_code == 1
    assert "par l'ensemble des fichiers" in " ".join(broken.output.split())
    each = [runner.invoke(app, ["indicators", "audit", str(p)]).exit_code for p in alone]
    assert each == [0, 0]  # each file alone passes: only the combination gives cells away
