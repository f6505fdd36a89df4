"""The consolidate and evaluate commands, on a small simulated economy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app
from datadsn.engine.warehouse import Warehouse
from datadsn.ingest.pseudonymize import Secret
from datadsn.ingest.run import ingest
from tests.quality.scenario import Scenario, declaration

simulate = pytest.importorskip("datadsn.simulate").simulate


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sim")
    simulate(root, employers=8, months="2023-01..2023-04", seed=7)
    store = Warehouse(root / "warehouse")
    # evaluate reads pseudonyms with the same key (environment, else demo key)
    ingest([root / "dsn"], store, Secret.from_env(demo=True), workers=1)
    return root / "truth", store.root


def app() -> typer.Typer:
    return datadsn_app


def test_consolidate_through_then_evaluate(simulated: tuple[Path, Path]) -> None:
    truth, warehouse = simulated
    runner = CliRunner()
    result = runner.invoke(app(), ["consolidate", "--through", "2023-04", "-w", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "2023-04" in result.output and "Consolidation" in result.output
    again = runner.invoke(app(), ["consolidate", "--through", "2023-04", "-w", str(warehouse)])
    assert again.exit_code == 0 and "à jour" in again.output
    result = runner.invoke(
        app(), ["evaluate", "--truth", str(truth), "--json", "-w", str(warehouse)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    for key in ("salarie_f1", "contrat_f1", "fin_statut_exact", "heures_erreur_relative"):
        assert key in figures
    assert figures["salarie_f1"] > 0.99 and figures["contrat_f1"] > 0.99
    table = runner.invoke(app(), ["evaluate", "--truth", str(truth), "-w", str(warehouse)])
    assert table.exit_code == 0 and "salariés : F1" in table.output


def test_consolidate_needs_one_of_month_or_through(tmp_path: Path) -> None:
    result = CliRunner().invoke(app(), ["consolidate", "-w", str(tmp_path)])
    assert result.exit_code == 2 and "--month" in result.output
    result = CliRunner().invoke(app(), ["consolidate", "--month", "2023-01", "-w", str(tmp_path)])
    assert result.exit_code == 2 and "ingest" in result.output


def test_consolidate_refuses_an_unknown_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["consolidate", "--month", "2023-01", "-w", str(tmp_path)]
    result = CliRunner().invoke(app(), [*args, "--engine", "oracle"])
    assert result.exit_code == 2 and "moteur inconnu : oracle" in result.output
    monkeypatch.setenv("DATADSN_ENGINE", "oracle")
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 2 and "moteur inconnu : oracle" in result.output


def test_consolidate_on_duckdb_imports_no_data_frame_library(tmp_path: Path) -> None:
    """A fresh command pays each import: pandas (which DuckDB imported before binding a
    parameter, where installed) cost 0.3 CPU-s, pyarrow with numpy 0.2 and polars 0.13, for a
    consolidation on DuckDB that hands the engine none of their objects."""
    sc = Scenario(tmp_path)
    sc.ingest(declaration("2023-01"), declaration("2023-02"))
    heavy = ("pandas", "pyarrow", "polars", "numpy")
    code = (
        "import sys; from datadsn.cli import app; "
        f"app(['consolidate', '--through', '2023-02', '-w', {str(sc.store.root)!r}], "
        f"standalone_mode=False); print(sorted(set({heavy!r}) & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (sc.store.root / "quality" / "2023-02" / "contrats.parquet").exists()
