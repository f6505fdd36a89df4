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
