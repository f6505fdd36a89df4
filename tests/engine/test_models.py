"""Model headers and Python step registration: what a pipeline is built from."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datadsn.engine import models
from datadsn.engine.backends.duck import DuckDBBackend
from datadsn.engine.models import ModelError, Registry

MART = """-- Contracts, for the test.
-- @kind table
-- @key contrat_id, mois
-- @previous view
-- @internal
-- @column contrat_id VARCHAR
-- @column mois DATE
-- @column quotite DECIMAL(18,2)
select contrat_id, mois, quotite from int_contrats
"""


def _write(folder: Path, layer: str, name: str, text: str) -> Path:
    path = folder / layer / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_header_declares_kind_key_columns_and_loading(tmp_path: Path) -> None:
    model = models.parse(_write(tmp_path, "marts", "contrats", MART), "marts")
    assert (model.name, model.layer, model.kind) == ("contrats", "marts", "table")
    assert model.key == ("contrat_id", "mois")
    assert model.columns == {"contrat_id": "VARCHAR", "mois": "DATE", "quotite": "DECIMAL(18,2)"}
    assert model.previous == "view" and model.internal
    con = duckdb.connect()
    DuckDBBackend(con).create_empty("vide", model.columns)
    con.execute("CREATE TABLE t AS SELECT 'c1' AS contrat_id, '2023-01-01' AS mois")
    typed = con.execute(f"SELECT {model.select_list({'contrat_id', 'mois'})} FROM t").fetchall()
    assert [d[1] for d in con.execute("DESCRIBE vide").fetchall()] == [
        "VARCHAR",
        "DATE",
        "DECIMAL(18,2)",
    ]
    assert typed[0][2] is None  # a column an older file lacks reads as NULL


def test_a_view_needs_no_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "intermediate", "int_t", "-- Why.\n-- @kind view\nselect 1 as a\n")
    model = models.parse(path, "intermediate")
    assert (model.kind, model.key, model.columns, model.previous) == ("view", (), {}, None)


@pytest.mark.parametrize(
    ("header", "line", "why"),
    [
        ("-- @kind tabel\n", 1, "@kind attend table ou view"),
        ("-- @kind table\n-- @kind view\n", 2, "@kind déjà donné ligne 1"),
        ("-- @kind table\n-- @grain a\n", 2, "directive inconnue @grain"),
        ("-- @kind table\n-- @column a TEXTE\n", 2, "@column attend un nom et un type"),
        ("-- @kind table\n-- @column a DATE\n-- @column a DATE\n", 3, "colonne a déjà"),
        ("-- @kind table\n-- @key a,\n", 2, "@key attend des colonnes"),
        ("-- @kind table\n-- @key b\n-- @column a DATE\n", 2, "clé hors des colonnes : b"),
        ("-- @kind table\n-- @internal oui\n", 2, "@internal ne prend pas de valeur"),
        ("-- Why.\n", 1, "@kind manquant"),
        ("-- @kind table\nselect 1 as a\n-- @key a\n", 3, "directive après le début"),
    ],
)
def test_a_bad_header_names_the_file_and_line(
    tmp_path: Path, header: str, line: int, why: str
) -> None:
    text = header if "select" in header else header + "select 1 as a\n"
    path = _write(tmp_path, "marts", "t", text)
    with pytest.raises(ModelError, match=rf"t\.sql:{line} : en-tête de modèle invalide, {why}"):
        models.parse(path, "marts")


def test_a_pipeline_orders_sql_models_and_python_steps_by_what_they_read(tmp_path: Path) -> None:
    _write(tmp_path, "marts", "resultat", "-- @kind table\nselect * from int_b, int_fusions\n")
    _write(tmp_path, "intermediate", "int_b", "-- @kind view\nselect * from int_a\n")
    _write(tmp_path, "intermediate", "int_a", "-- @kind table\nselect * from stg_x\n")
    _write(tmp_path, "staging", "stg_x", "-- @kind table\nselect * from brut\n")
    registry = Registry()
    ran: list[str] = []

    @registry.step("int_fusions", reads={"int_a"})
    def fusions(con: duckdb.DuckDBPyConnection, run: object) -> int:
        ran.append(str(run))
        return 0

    pipeline = models.load(tmp_path, registry)
    assert pipeline.order == ("stg_x", "int_a", "int_b", "int_fusions", "resultat")
    assert pipeline.depends["resultat"] == {"int_b", "int_fusions"}
    assert pipeline.depends["int_fusions"] == {"int_a"}
    assert pipeline.python["int_fusions"].run(duckdb.connect(), "contexte") == 0
    assert ran == ["contexte"]
    with pytest.raises(ModelError, match="int_fusions déjà enregistrée"):
        registry.step("int_fusions", reads=())(fusions)


def test_a_pipeline_refuses_a_name_twice_and_unknown_folders(tmp_path: Path) -> None:
    _write(tmp_path, "staging", "t", "-- @kind table\nselect 1 as a\n")
    registry = Registry()
    registry.step("t", reads=())(lambda con, run: 0)
    with pytest.raises(ModelError, match="à la fois SQL et Python : t"):
        models.load(tmp_path, registry)
    _write(tmp_path, "divers", "u", "-- @kind table\nselect 1 as a\n")
    with pytest.raises(ModelError, match=r"divers/u\.sql:1 : dossier de modèles inconnu"):
        models.read_models(tmp_path)


def test_a_cycle_between_models_is_a_model_error(tmp_path: Path) -> None:
    _write(tmp_path, "intermediate", "int_a", "-- @kind table\nselect * from int_b\n")
    _write(tmp_path, "intermediate", "int_b", "-- @kind table\nselect * from int_a\n")
    with pytest.raises(ModelError, match="circulaires : int_a -> int_b -> int_a"):
        models.load(tmp_path, Registry())


def test_the_engine_names_no_stage() -> None:
    """The engine receives the model folder and the step registry; it imports no stage."""
    engine = Path(models.__file__).parent
    for path in engine.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "datadsn.quality" not in text and "import quality" not in text, path.name
