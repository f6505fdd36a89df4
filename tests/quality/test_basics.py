from pathlib import Path

from tests.quality.scenario import Scenario, declaration


def test_one_month_one_contract(tmp_path: Path) -> None:
    sc = Scenario(tmp_path)
    sc.run("2023-01", declaration("2023-01"))
    salaries = sc.table("salaries")
    contrats = sc.table("contrats")
    assert len(salaries) == 1 and len(contrats) == 1
    assert contrats[0]["contrat_key"] == "C0001_2022-01-01"
    assert contrats[0]["statut_fin"] is None
    activites = sc.table("activites")
    assert [(str(a["mois"]), float(a["heures_standards_remunerees"])) for a in activites] == [
        ("2023-01-01", 151.67)
    ]
    assert sc.rows("select count(*) from contrats") == [(1,)]
    assert sc.rows("select count(*) from quality_2023_01.salaries") == [(1,)]
