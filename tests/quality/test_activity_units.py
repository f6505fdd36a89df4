"""The unit of an activity line whose unit code was rejected (unknown code) or left out.

At 2,000 employers, contract 7802 was paid in days (unit ``12``) but noise replaced the unit of
its June 2023 activity line with ``99``; ingestion rejects that value, and consolidation used the
contract's working-time unit (hours): 22 h counted instead of 22 days x 7 h = 154 h. The unit the
same contract declared in its earlier months, or failing that in its other activity lines of the
month, is the contract's real unit: it comes before the working-time unit.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from datadsn.quality.snapshot import snapshot_dir
from tests.quality.scenario import Contrat, Rem, Salarie, Scenario, declaration, month_end

SIRET = "12345678200012"


def _month(month: str, activites: list[tuple[str, str, str | None]]) -> list:
    rem = Rem(f"{month}-01", month_end(month), activites=activites)
    contrat = Contrat("C0001", "2022-01-01", unite="10", heures=None, rems=[rem])
    return declaration(month, SIRET, [Salarie(contrats=[contrat])])


def _hours(sc: Scenario) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        str(m): (h, n)
        for m, h, n in sc.rows(
            "select mois, heures_standards_remunerees, heures_non_remunerees from activites "
            "order by 1"
        )
    }


def test_unknown_unit_takes_the_unit_of_the_earlier_months(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    sc.run("2023-04", _month("2023-04", [("01", "20.00", "12")]))
    sc.run("2023-05", _month("2023-05", [("01", "21.00", "12")]))
    sc.run("2023-06", _month("2023-06", [("01", "22.00", "99")]))
    assert _hours(sc)["2023-06-01"][0] == Decimal("154")  # 22 days of 7 h, not 22 h


def test_unknown_unit_takes_the_unit_of_the_other_lines_of_the_month(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    sc.run("2023-06", _month("2023-06", [("01", "20.00", "99"), ("02", "2.00", "12")]))
    assert _hours(sc)["2023-06-01"] == (Decimal("140"), Decimal("14"))


def test_without_any_declared_unit_the_contract_unit_applies(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    sc.run("2023-06", _month("2023-06", [("01", "22.00", "99")]))
    assert _hours(sc)["2023-06-01"][0] == Decimal("22")


def test_month_files_written_before_the_unit_column_still_read(tmp_path: Path) -> None:
    """A snapshot published before ``contrats_mois.unite_mesure_activite`` existed: its month
    files lack the column, which reads as NULL (no earlier unit) instead of failing the run."""
    sc = Scenario(tmp_path)
    sc.run("2023-05", _month("2023-05", [("01", "21.00", "12")]))
    folder = snapshot_dir(sc.store, "2023-05")
    for path in (folder / "contrats_mois").glob("*.parquet"):
        older = path.with_suffix(".old")
        duckdb.execute(
            f"COPY (SELECT * EXCLUDE (unite_mesure_activite) FROM '{path}') TO '{older}' "
            "(FORMAT parquet)"
        )
        path.unlink()  # hard-linked into later snapshots: replaced, not rewritten in place
        older.rename(path)
    sc.run("2023-06", _month("2023-06", [("01", "22.00", "99")]))
    assert _hours(sc)["2023-06-01"][0] == Decimal("22")
    rows = {(str(r["mois"]), r["unite_mesure_activite"]) for r in sc.table("contrats_mois")}
    assert rows == {("2023-05-01", None), ("2023-06-01", None)}  # 99 rejected: no unit
