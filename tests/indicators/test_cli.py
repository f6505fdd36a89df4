"""The ``indicators`` command group, through Typer's test runner on a fresh application."""

from __future__ import annotations

import sys

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app

from .conftest import MONTHS

KEY_A = "cle-du-destinataire-A-0123456789"
KEY_B = "cle-du-destinataire-B-9876543210"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return datadsn_app


def run(app: typer.Typer, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["indicators", *args], env=env)


def test_list_and_show(app) -> None:
    out = run(app, "list")
    assert out.exit_code == 0 and "EFF_FIN" in out.output and "RECOURS_INTERIM" in out.output
    out = run(app, "show", "taux_rotation")
    assert out.exit_code == 0 and "Définition" in out.output and "naf_a38" in out.output
    out = run(app, "show", "NOPE")
    assert out.exit_code == 2 and "indicateur inconnu" in out.output


def test_compute_writes_every_format_and_audit_passes(app, economy, tmp_path) -> None:
    wh = str(economy.store.root)
    target = tmp_path / "ind.xlsx"
    out = run(app, "compute", "EFF_FIN", "EMBAUCHES", "--by", "naf_section,sexe",
              "--from", MONTHS[0], "--to", MONTHS[1], "--period", "trimestre",
              "--out", str(target), "-w", wh)  # fmt: skip
    assert out.exit_code == 0, out.output
    for code in ("eff_fin", "embauches"):
        assert (tmp_path / f"ind_{code}.xlsx").exists()
        assert (tmp_path / f"ind_{code}.svg").exists()
        audited = run(app, "audit", str(tmp_path / f"ind_{code}.xlsx"), "-w", wh)
        assert audited.exit_code == 0, audited.output
    csv = tmp_path / "eff.csv"
    out = run(app, "compute", "EFF_FIN", "--by", "region", "--from", MONTHS[0], "--to",
              MONTHS[1], "--out", str(csv), "-w", wh)  # fmt: skip
    assert out.exit_code == 0, out.output
    table = pl.read_csv(csv)
    assert {"publie", "masque_primaire", "masque_secondaire", "statut"} <= set(table.columns)
    csv.write_text(csv.read_text(encoding="utf-8").replace("publie,true", "publie,false", 1))
    audited = run(app, "audit", str(csv))
    assert audited.exit_code == 1 and "modifié" in audited.output


def test_compute_refuses_bad_requests(app, economy, tmp_path) -> None:
    wh = str(economy.store.root)
    base = ["--from", MONTHS[0], "--to", MONTHS[1], "--out", str(tmp_path / "x.csv"), "-w", wh]
    out = run(app, "compute", "RECOURS_INTERIM", "--by", "sexe", *base)
    assert out.exit_code == 2 and "n'est pas prévue" in out.output
    out = run(app, "compute", "EFF_FIN", "--by", "couleur", *base)
    assert out.exit_code == 2 and "dimension inconnue" in out.output
    rules = tmp_path / "regles.toml"
    rules.write_text("[secret]\nseuil = 3\n", encoding="utf-8")
    out = run(app, "compute", "EFF_FIN", "--rules", str(rules), *base)
    assert out.exit_code == 2 and "règles inconnues" in out.output


def test_compute_on_an_unusable_engine_says_so_in_one_line(
    app, economy, tmp_path, monkeypatch
) -> None:
    from datadsn.engine.backends import spark

    target = tmp_path / "x.csv"
    base = ["--from", MONTHS[0], "--to", MONTHS[1], "--out", str(target),
            "-w", str(economy.store.root)]  # fmt: skip
    out = run(app, "compute", "EFF_FIN", "--engine", "postgres", *base)
    assert out.exit_code == 2 and "moteur inconnu : postgres" in out.output
    # Spark asked for through the environment, PySpark not installed
    monkeypatch.setattr(spark, "_sessions", {})
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    out = run(app, "compute", "EFF_FIN", *base, env={"DATADSN_ENGINE": "spark"})
    assert out.exit_code == 2 and "moteur spark indisponible" in out.output, out.output
    assert len(out.output.strip().splitlines()) == 1 and not target.exists()


def test_extract_refuses_below_k_and_says_why(app, economy, tmp_path) -> None:
    out = run(app, "extract", "--from", MONTHS[0], "--to", MONTHS[1],
              "--out", str(tmp_path / "e.parquet"), "--recipient", "DREETS",
              "--naf-level", "naf_a88", "--geo-level", "departement",
              "--age-level", "tranche_age", "-w", str(economy.store.root),
              env={"DATADSN_CLE_DESTINATAIRE": KEY_A})  # fmt: skip
    assert out.exit_code == 1
    assert "diffusion refusée" in out.output and "k-anonymat insuffisant" in out.output
    assert not (tmp_path / "e.parquet").exists()
    out = run(app, "extract", "--from", MONTHS[0], "--to", MONTHS[1],
              "--out", str(tmp_path / "e.parquet"), "--recipient", "DREETS",
              "-w", str(economy.store.root))  # fmt: skip
    assert out.exit_code == 2 and "clé du destinataire" in out.output


def test_extract_per_recipient_pseudonyms_cannot_be_linked(app, economy, tmp_path) -> None:
    rules = tmp_path / "regles.toml"
    rules.write_text("[extrait]\nk = 1\nl = 1\n", encoding="utf-8")
    paths = {}
    for name, key in (("A", KEY_A), ("B", KEY_B), ("A2", KEY_A)):
        paths[name] = tmp_path / f"{name}.parquet"
        out = run(app, "extract", "--from", MONTHS[0], "--to", MONTHS[1],
                  "--out", str(paths[name]), "--recipient", name, "--rules", str(rules),
                  "-w", str(economy.store.root), env={"DATADSN_CLE_DESTINATAIRE": key})  # fmt: skip
        assert out.exit_code == 0, out.output
    a, b, a2 = (pl.read_parquet(paths[n]) for n in ("A", "B", "A2"))
    assert a.height == b.height > 0
    assert set(a["salarie_id"]).isdisjoint(set(b["salarie_id"]))
    assert set(a["contrat_id"]).isdisjoint(set(b["contrat_id"]))
    assert a["salarie_id"].to_list() == a2["salarie_id"].to_list()  # stable for one recipient
    with economy.store.connect() as con:
        stored = {r[0] for r in con.execute("select salarie_id from salaries").fetchall()}
    assert stored.isdisjoint(set(a["salarie_id"]))
    assert {"sexe", "tranche_age", "naf", "zone", "tranche_brut"} <= set(a.columns)
    assert "nir" not in a.columns and "brut" not in a.columns


def test_refresh_references(app) -> None:
    out = run(app, "refresh-references")
    assert out.exit_code == 0 and "codes_norme.csv" in out.output


def test_compute_refuses_a_window_beyond_the_snapshot(app, economy, tmp_path) -> None:
    out = run(app, "compute", "EFF_FIN", "--from", "2030-01", "--to", "2030-02",
              "--out", str(tmp_path / "x.csv"), "-w", str(economy.store.root))  # fmt: skip
    assert out.exit_code == 2 and "au-delà du dernier mois consolidé" in out.output
