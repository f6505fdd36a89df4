"""The public monthly release: layout, joint protection, attacker audit, versions, CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from datadsn.cli import app
from datadsn.indicators import attacker, public
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import TOTAL
from datadsn.indicators.rules import Rules

MONTH = "2023-06"
SOME = (get("EFF_FIN"), get("MASSE_SALARIALE"), get("REPARTITION_CONTRATS"))


@pytest.fixture(scope="module")
def released(session, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("publication")
    public.release(session, root, MONTH, Rules(), SOME)
    return root


def test_layout_is_the_contract(released: Path) -> None:
    found = public.latest(released)
    assert found is not None
    assert os.path.islink(released / "publications" / MONTH)
    assert found.month == MONTH and found.version == 1
    meta = found.meta
    assert meta["format"] == "datadsn-publication/1"
    assert (meta["du"], meta["au"]) == ("2023-01", MONTH)  # 24 months, from the first month
    assert meta["regles"] == Rules().to_dict()
    assert meta["audit"]["exposees"] == 0
    assert [e["code"] for e in meta["indicateurs"]] == [i.code for i in SOME]
    total_masked = 0
    for entry in meta["indicateurs"]:
        assert set(entry) == {"code", "titre", "unite", "definition", "precautions",
                              "dimensions", "fichier"}  # fmt: skip
        cells = found.cells(entry["code"])
        assert found.path(entry["code"]).name == f"{entry['code']}.parquet"
        assert dict(cells.schema) == public.COLUMNS
        assert sorted(cells["dimension"].unique()) == sorted(entry["dimensions"])
        assert set(cells["periode"].unique()) == {f"2023-0{m}" for m in range(1, 7)}
        assert set(cells["statut"].unique()) <= {"publie", "masque_primaire", "masque_secondaire"}
        hidden = cells.filter(pl.col("statut") != "publie")
        assert hidden["valeur"].null_count() == hidden.height
        total_masked += hidden.height
        assert cells.filter(pl.col("code") == TOTAL).is_empty()
    assert meta["audit"]["cases_masquees"] == total_masked
    eff = found.cells("EFF_FIN")
    assert eff["dimension"][0] == "national"
    national = eff.filter(pl.col("dimension") == "national")
    assert national["code"].null_count() == national.height
    assert set(national["libelle"]) == {"France entière"}
    assert set(eff["dimension"]) == {"national", *public.DIMENSIONS}
    regions = eff.filter(pl.col("dimension") == "region", pl.col("code") != "inconnu")
    assert regions["libelle"].str.len_chars().min() > 3  # names, not codes
    assert found.meta["indicateurs"][2]["dimensions"] == ["nature_contrat"]
    with pytest.raises(public.PublicationError):
        found.path("INCONNU")


def test_an_attacker_holding_every_table_pins_no_cell(released: Path) -> None:
    held = public.holdings(released)
    assert {h.indicator for h in held} == {"EFF_FIN", "MASSE_SALARIALE"}  # additive ones
    assert len(held) == 2 * len(public.DIMENSIONS)
    assert sum(int((h.table["statut"] == "masque_primaire").sum()) for h in held) > 0
    assert attacker.attack(held) == []


def test_a_cell_masked_in_one_table_is_masked_in_all(session) -> None:
    indicator = get("EFF_FIN")
    start, end = public.window(session, MONTH)
    done = public.protect_indicator(session, indicator, start, end, Rules())
    status: dict[tuple[str, str], set[bool]] = {}
    for cells in done.values():
        masked = cells["masque_primaire"] | cells["masque_secondaire"]
        for period, cell, flag in zip(cells["periode"], cells["cellule"], masked, strict=True):
            status.setdefault((period, cell), set()).add(flag)
    shared = {key for key, flags in status.items() if key[1] == ""}
    assert len(shared) == 6  # the national total of each month is in every cube
    assert all(len(flags) == 1 for flags in status.values())


def test_release_refused_when_an_attacker_pins_a_cell(session, tmp_path, monkeypatch) -> None:
    def primary_only(*args, **kwargs):
        done = protect(*args, **kwargs)
        return {
            k: c.with_columns(pl.lit(False).alias("masque_secondaire")) for k, c in done.items()
        }

    protect = public.protect_indicator
    monkeypatch.setattr(public, "protect_indicator", primary_only)
    with pytest.raises(public.PublicationRefused, match="recalculable"):
        public.release(session, tmp_path, MONTH, Rules(), (get("EFF_FIN"),))
    assert public.latest(tmp_path) is None


def test_a_new_run_is_the_next_version_and_old_files_stay_immutable(
    session, tmp_path: Path
) -> None:
    first = public.release(session, tmp_path, MONTH, Rules(), (get("EFF_FIN"),))
    held = first.publication  # a reader that opened version 1
    before = held.cells("EFF_FIN")
    assert held.path("EFF_FIN").stat().st_mode & 0o222 == 0  # written read-only
    second = public.release(session, tmp_path, MONTH, Rules(), (get("EFF_FIN"),))
    assert second.publication.version == 2
    assert public.latest(tmp_path).version == 2  # type: ignore[union-attr]
    assert second.publication.cells("EFF_FIN").equals(before)
    meta = json.loads((tmp_path / "publications" / MONTH / "release.json").read_text())
    assert meta["version"] == 2


def test_public_release_keeps_enterprise_secrecy(session, tmp_path: Path) -> None:
    with pytest.raises(public.PublicationError, match="secret des entreprises"):
        public.release(session, tmp_path, MONTH, Rules(secret_entreprises=False), SOME)


@pytest.mark.slow
def test_cli_release_end_to_end(economy) -> None:
    result = CliRunner().invoke(
        app, ["indicators", "release", "--month", MONTH, "-w", str(economy.store.root)]
    )
    assert result.exit_code == 0, result.output
    assert "version" in result.output
    found = public.latest(economy.store.root)
    assert found is not None and len(found.meta["indicateurs"]) == 15
    bad = CliRunner().invoke(
        app, ["indicators", "release", "--month", "2031-13", "-w", str(economy.store.root)]
    )
    assert bad.exit_code == 2


def test_a_release_that_fails_while_written_leaves_the_last_one_served(
    session, tmp_path: Path, monkeypatch
) -> None:
    public.release(session, tmp_path, MONTH, Rules(), (get("EFF_FIN"),))

    def broken(tmp: Path, final: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(public.publication, "publish_folder", broken)
    with pytest.raises(OSError):
        public.release(session, tmp_path, MONTH, Rules(), (get("EFF_FIN"),))
    found = public.latest(tmp_path)
    assert found is not None and found.version == 1
    assert found.cells("EFF_FIN").height > 0
    assert not list((tmp_path / "publications").glob(f"{public.WRITING}*"))
