"""The retention: what was last declared more than 72 months before the run's month leaves the
state, in every table and every file of the snapshot, and is never read again as pending.

Running 73 months of a scenario would take over a minute, so the retention is shortened to three
months here: the steps read it from ``run_params`` and the files carried over from
``retention_cutoff``, both computed from ``inputs.RETENTION_MONTHS`` (a test below checks that no
step writes a retention of its own).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app
from datadsn.engine.runner import _strip_comments
from datadsn.quality import inputs
from datadsn.quality.consolidate import consolidate, pipeline
from datadsn.quality.history import ARCHIVES, PARTITIONED, part_files
from datadsn.quality.snapshot import snapshot_dir
from tests.quality.scenario import Contrat, Salarie, Scenario, declaration, nir_key

A = "11111111100011"  # declares every month
B = "22222222200022"  # declares every month
C = "33333333300033"  # declares January only
T = "44444444400044"  # temporary-work agency, NAF 7820Z, declares every month
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
PERMANENT = "1850575101101"  # in A
LEAVER = "2850575102102"  # in A, contract ended in January
SILENT = "1850575103103"  # in C, which stops declaring
WORKER = "2850575104104"  # placed by T in A in January, then in B
STAFF = "1850575105105"  # in B


def month_declarations(month: str) -> list[list]:
    a = [Salarie(PERMANENT, "UN", "ALAIN", "01011980", [Contrat("P0001", "2020-01-01")])]
    if month == "2023-01":
        ended = Contrat("L0002", "2020-01-01", fin=("2023-01-20", "031"))
        a.append(Salarie(LEAVER, "DEUX", "BEA", "02011980", [ended]))
        mission = Contrat("T0004", "2023-01-02", "03", ("2023-01-27", "058"), siret_utilisateur=A)
    else:
        mission = Contrat("T0005", "2023-02-01", "03", siret_utilisateur=B)
    out = [
        declaration(month, A, a),
        declaration(
            month, B, [Salarie(STAFF, "CINQ", "EVE", "05011980", [Contrat("B0005", "2019-01-01")])]
        ),
        declaration(
            month,
            T,
            [Salarie(WORKER, "QUATRE", "DAN", "04011980", [mission])],
            naf="7820Z",
        ),
    ]
    if month == "2023-01":
        silent = [Salarie(SILENT, "TROIS", "CLE", "03011980", [Contrat("S0003", "2021-01-01")])]
        out.append(declaration(month, C, silent))
    return out


@pytest.fixture(scope="module")
def sc(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    patch = pytest.MonkeyPatch()
    patch.setattr(inputs, "RETENTION_MONTHS", 3)
    try:
        scenario = Scenario(Path(tmp_path_factory.mktemp("retention")))
        for month in MONTHS:
            scenario.run(month, *month_declarations(month))
        return scenario
    finally:
        patch.undo()


def people(sc: Scenario, month: str) -> dict[str, list[str]]:
    """NIR -> where each of its rows in ``salaries`` is: its employer, or a user establishment
    for a temporary worker's copy."""
    keys = {nir_key(n): n for n in (PERMANENT, LEAVER, SILENT, WORKER, STAFF)}
    out: dict[str, list[str]] = {}
    for row in sc.table("salaries", month):
        kind = "copie" if row["allocated_from_ett"] else "employeur"
        out.setdefault(keys[row["nir"]], []).append(f"{row['siret']} {kind}")
    return {k: sorted(v) for k, v in out.items()}


def test_everything_declared_within_the_retention_is_kept(sc: Scenario) -> None:
    # March keeps January (three months: January to March)
    assert people(sc, "2023-03") == {
        PERMANENT: [f"{A} employeur"],
        LEAVER: [f"{A} employeur"],
        SILENT: [f"{C} employeur"],
        WORKER: [f"{A} copie", f"{B} copie", f"{T} employeur"],
        STAFF: [f"{B} employeur"],
    }
    numeros = sorted(c["numero"] for c in sc.table("contrats", "2023-03"))
    assert numeros == sorted(
        ["B0005", "L0002", "P0001", "S0003", "T0004", f"T0004_{T}", "T0005", f"T0005_{T}"]
    )
    sirets = sorted(e["siret"] for e in sc.table("etablissements", "2023-03"))
    assert sirets == [A, B, C, T]
    months = {str(r["mois"]) for r in sc.table("activites", "2023-03")}
    assert months == {"2023-01-01", "2023-02-01", "2023-03-01"}


def test_what_was_last_declared_before_the_retention_leaves_every_table(sc: Scenario) -> None:
    """April keeps February to April: everything last declared in January is gone, the copy of
    the worker in A with the January mission, though the worker is still declared by T."""
    assert people(sc, "2023-04") == {
        PERMANENT: [f"{A} employeur"],
        WORKER: [f"{B} copie", f"{T} employeur"],
        STAFF: [f"{B} employeur"],
    }
    numeros = sorted(c["numero"] for c in sc.table("contrats", "2023-04"))
    assert numeros == ["B0005", "P0001", "T0005", f"T0005_{T}"]
    assert sorted(e["siret"] for e in sc.table("etablissements", "2023-04")) == [A, B, T]
    assert sorted(e["siren"] for e in sc.table("entreprises", "2023-04")) == [A[:9], B[:9], T[:9]]
    for table, column in (
        ("activites", "mois"),
        ("contrats_mois", "mois"),
        ("declarations", "mois"),
        ("activites_sources", "mois_declaration"),
    ):
        months = {str(r[column]) for r in sc.table(table, "2023-04")}
        assert months == {"2023-02-01", "2023-03-01", "2023-04-01"}, table


def test_no_file_of_a_month_before_the_retention_is_carried(sc: Scenario) -> None:
    for month, oldest in (("2023-04", "2023-02"), ("2023-05", "2023-03")):
        folder = snapshot_dir(sc.store, month)
        for table in [*PARTITIONED, *ARCHIVES.values()]:
            assert all(m >= oldest for m in part_files(folder, table)), (month, table)
    # January's files were there before
    january = snapshot_dir(sc.store, "2023-03")
    assert "2023-01" in part_files(january, "contrats_mois")
    assert "2023-01" in part_files(january, ARCHIVES["contrats"])


def test_counts_of_a_run_match_its_published_tables(sc: Scenario) -> None:
    """The run's row of ``chargements`` counts the state it published, dropped months left out."""
    for month in ("2023-04", "2023-05"):
        row = next(r for r in sc.table("chargements", month) if str(r["mois"]) == f"{month}-01")
        for table in ("entreprises", "etablissements", "salaries", "contrats", "activites"):
            assert row[table] == len(sc.table(table, month)), (month, table)
        assert row["declarations"] == 3  # A, B and T: January's files are not read again


def test_steps_take_the_retention_from_the_run_parameters() -> None:
    """One place for the 72 months (``inputs.RETENTION_MONTHS``): a step that wrote its own
    interval would keep rows the files carried over have dropped."""
    assert inputs.RETENTION_MONTHS == 72
    readers = []
    for name, model in pipeline().models.items():
        code = _strip_comments(model.step.sql)
        assert re.search(r"\b72\b", code) is None, name
        if "limite_retention" in code:
            readers.append(name)
    assert {"contrats", "int_salaries_reels", "int_declarations", "int_activites_mois"} <= set(
        readers
    )


def test_a_declaration_arriving_after_its_retention_is_reported_not_integrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "RETENTION_MONTHS", 2)  # at 2023-03: February and March
    sc = Scenario(tmp_path)
    for month in ("2023-01", "2023-02", "2023-03"):
        sc.run(month, *month_declarations(month)[:1])
    late = declaration(
        "2023-01",
        C,
        [Salarie(SILENT, "TROIS", "CLE", "03011980", [Contrat("S0003", "2021-01-01")])],
    )
    sc.ingest(late)  # January, integrated by nobody: the retention ended with February's run
    summary = consolidate(sc.store, "2023-03")
    assert (summary.declarations, summary.beyond_retention) == (1, 1)  # March again, January out
    assert C not in {e["siret"] for e in sc.table("etablissements")}
    cli = datadsn_app
    result = CliRunner().invoke(
        cli, ["consolidate", "--month", "2023-03", "-w", str(sc.store.root)]
    )
    assert result.exit_code == 0, result.output
    assert "1 déclaration(s) d'un mois antérieur à la rétention de 2 mois (avant 2023-02)" in (
        " ".join(result.output.split())
    )
    # the files integrated in their time are not reported again, nor on the next month
    sc.run("2023-04", *month_declarations("2023-04")[:1])
    assert consolidate(sc.store, "2023-04").beyond_retention == 0
