"""Runs: delivery layout, audit of every file, idempotence, atomicity, refusals."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import polars as pl
import pytest

from datadsn.flows import adapter
from datadsn.flows import run as flow_run
from datadsn.flows.habilitation import HabInfo
from datadsn.flows.run import RunError, deliveries_root, run
from datadsn.flows.spec import parse
from datadsn.indicators.audit import audit

from .conftest import Economy, hab_info


def spec_for(region: str, **changes: Any):
    data: dict[str, Any] = {
        "version": 1,
        "nom": "effectifs-test",
        "habilitation": "H1",
        "perimetre": {"regions": [region]},
        "indicateurs": [
            {"code": "EFF_FIN", "dimensions": ["naf_section"]},
            {"code": "EMBAUCHES", "dimensions": ["sexe"]},
        ],
        "periodicite": "mois",
        "formats": ["csv", "parquet", "xlsx"],
    }
    data.update(changes)
    return parse(data)


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_run_delivers_audited_files_and_is_idempotent(economy: Economy) -> None:
    spec = spec_for(economy.region)
    hab = hab_info(economy.region)
    first = run(spec, economy.store, "2023-02", hab)
    assert first.status == "livre"
    folder = deliveries_root(economy.store) / "H1" / "2023-02" / "effectifs-test"
    assert first.folder == folder
    names = set(_files(folder))
    assert {"effectifs-test_eff_fin.csv", "effectifs-test_eff_fin.parquet",
            "effectifs-test_embauches.xlsx", "manifest.json"} <= names  # fmt: skip
    for path in folder.iterdir():
        if path.suffix in (".csv", ".parquet", ".xlsx"):
            assert audit(path) == [], path  # what `datadsn indicators audit` checks
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["instantane"] == "2023-03"
    assert manifest["fenetre"] == {"du": "2023-02", "au": "2023-02", "periode": "mois"}
    # The population's head count is not in the manifest (it would be published unprotected).
    assert "population_salaries" not in manifest
    assert flow_run.unprotected_counts(manifest) == []
    assert first.population > 0  # the operator's journal keeps it
    before = _files(folder)
    second = run(spec, economy.store, "2023-02", hab)
    assert second.status == "inchange"
    assert _files(folder) == before
    journal = (deliveries_root(economy.store) / "H1" / "journal.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in journal]
    last = entries[-1]
    assert last["statut"] == "inchange" and last["instantane"] == "2023-03"
    assert {"regles", "fichiers", "cases_masquees", "duree_s", "population_salaries"} <= set(last)
    assert all("lignes" in f and "masque_primaire" in f for f in last["fichiers"])


def test_no_manifest_carries_an_unprotected_count(economy: Economy) -> None:
    """Replay: the manifest used to give ``population_salaries``, the distinct employees of the
    flow's population (of a single company for a company-list flow), with no secrecy."""
    old = {"flux": "f", "population_salaries": 7, "fichiers": [{"nom": "a.csv", "lignes": 3}]}
    assert flow_run.unprotected_counts(old) == ["population_salaries"]
    spec = spec_for(economy.region, nom="sans-effectif")
    done = run(spec, economy.store, "2023-03", hab_info(economy.region))
    assert done.folder is not None
    for manifest in done.folder.parent.parent.glob("*/*/manifest.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        assert flow_run.unprotected_counts(data) == [], manifest
    for sidecar in done.folder.glob("*.meta.json"):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        numbers = {k for k, v in meta.items() if isinstance(v, int) and not isinstance(v, bool)}
        assert numbers <= {"lignes"}, sidecar  # the file's own row count, nothing more


def test_scope_restricts_population(economy: Economy) -> None:
    hab = hab_info(economy.region)
    whole = run(spec_for(economy.region, nom="region-entiere"), economy.store, "2023-03", hab)
    natures = {"regions": [economy.region], "natures_contrat": ["01"]}
    cdi = run(spec_for(economy.region, nom="cdi", perimetre=natures), economy.store, "2023-03",
              hab)  # fmt: skip
    assert 0 < cdi.population < whole.population


def test_failure_midway_publishes_nothing(economy: Economy, monkeypatch) -> None:
    spec = spec_for(economy.region, nom="echec-test")
    hab = hab_info(economy.region)
    real = adapter.release_indicator
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disque plein")
        return real(*args, **kwargs)

    monkeypatch.setattr(adapter, "release_indicator", flaky)
    with pytest.raises(RunError, match="disque plein"):
        run(spec, economy.store, "2023-01", hab)
    root = deliveries_root(economy.store) / "H1"
    assert not (root / "2023-01" / "echec-test").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp")]
    last = json.loads((root / "journal.jsonl").read_text().splitlines()[-1])
    assert last["statut"] == "echec" and "disque plein" in last["erreur"]


def test_failed_rerun_keeps_the_published_delivery(economy: Economy, monkeypatch) -> None:
    spec = spec_for(economy.region, nom="garde-test")
    hab = hab_info(economy.region)
    done = run(spec, economy.store, "2023-01", hab)
    assert done.folder is not None
    before = _files(done.folder)
    monkeypatch.setattr(flow_run.adapter, "audit_file", lambda path, session: ["case exposée"])
    with pytest.raises(RunError, match="audit"):
        run(spec, economy.store, "2023-01", hab)
    assert _files(done.folder) == before


def test_refusals(economy: Economy) -> None:
    spec = spec_for(economy.region, nom="refus-test")
    with pytest.raises(RunError, match="pas encore consolidé"):
        run(spec, economy.store, "2023-04", hab_info(economy.region))
    expired = hab_info(economy.region, start=date(2020, 1, 1), end=date(2021, 1, 1))
    with pytest.raises(RunError, match="expiré"):
        run(spec, economy.store, "2023-01", expired)
    with pytest.raises(RunError, match="plus active"):
        run(spec, economy.store, "2023-01", hab_info(economy.region, status="revoquee"))
    with pytest.raises(RunError, match="n'est pas dans le périmètre"):
        other = {**hab_info(economy.region).scope, "indicateurs": ["EFF_FIN"]}
        run(spec, economy.store, "2023-01", hab_info(economy.region, scope=other))
    quarterly = spec_for(economy.region, nom="trimestre-test", periodicite="trimestre")
    assert run(quarterly, economy.store, "2023-02", hab_info(economy.region)).status == "non_du"
    done = run(quarterly, economy.store, "2023-03", hab_info(economy.region))
    assert done.status == "livre"


def _extract_spec(region: str, columns: list[str], mois: int = 3):  # type: ignore[no-untyped-def]
    return parse({
        "version": 1, "nom": f"cohorte-{len(columns)}", "habilitation": "H1",
        "perimetre": {"regions": [region]},
        "extraction": {"colonnes": columns, "mois": mois, "niveau_age": "tranche_age_large"},
        "periodicite": "mois", "formats": ["parquet"],
    })  # fmt: skip


def _cohort_hab(region: str) -> HabInfo:
    scope = {**hab_info(region).scope}
    scope["extraction"] = {**scope["extraction"], "population": "Cohorte des salariés"}
    return hab_info(region, scope=scope)


def test_extract_flow_delivers_when_its_columns_are_anonymous_enough(
    economy: Economy, monkeypatch
) -> None:
    """k-anonymity is measured on the quasi-identifiers the file holds (here only sexe). One
    month: over three, the months a person is present in (their trajectory) single out more
    than the 5 % of persons local suppression may drop in this small region."""
    monkeypatch.setenv("DATADSN_CLE_FLUX", "cle-de-test-assez-longue")
    spec = _extract_spec(economy.region, ["mois", "salarie_id", "sexe"], mois=1)
    done = run(spec, economy.store, "2023-03", _cohort_hab(economy.region))
    assert done.status == "livre" and done.files[0]["lignes"] > 0
    final = deliveries_root(economy.store) / "H1" / "2023-03" / spec.nom
    data = pl.read_parquet(final / f"{spec.nom}_extraction.parquet")
    assert data.columns == ["mois", "salarie_id", "sexe"]
    assert data.group_by("sexe").agg(pl.col("salarie_id").n_unique())["salarie_id"].min() >= 5
    monkeypatch.delenv("DATADSN_CLE_FLUX")
    with pytest.raises(RunError, match="DATADSN_CLE_FLUX"):
        run(spec, economy.store, "2023-03", _cohort_hab(economy.region))


def test_extract_flow_refuses_identifying_columns_and_publishes_nothing(
    economy: Economy, monkeypatch
) -> None:
    monkeypatch.setenv("DATADSN_CLE_FLUX", "cle-de-test-assez-longue")
    columns = ["mois", "salarie_id", "sexe", "tranche_age", "naf", "zone", "nature_contrat"]
    spec = _extract_spec(economy.region, columns)
    with pytest.raises(RunError, match="diffusion refusée"):
        run(spec, economy.store, "2023-03", _cohort_hab(economy.region))
    assert not (deliveries_root(economy.store) / "H1" / "2023-03" / spec.nom).exists()


def test_cli_run_all(economy: Economy, tmp_path, monkeypatch) -> None:
    import yaml
    from typer.testing import CliRunner

    from datadsn.cli import app as datadsn_app
    from datadsn.cli import flows as flow_cli

    monkeypatch.setattr(flow_cli, "lookup", lambda ref: hab_info(economy.region))
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, period in (("tous-mensuel", "mois"), ("tous-annuel", "annee")):
        data = dict(spec_for(economy.region).raw, nom=name, periodicite=period, formats=["csv"])
        (specs / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (specs / "casse.yaml").write_text("version: 1\nnom: casse\n", encoding="utf-8")
    main = datadsn_app
    args = ["flow", "run", "--all", str(specs), "--month", "2023-03", "-w", str(economy.store.root)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1  # the broken spec is reported, the others still run
    assert "casse.yaml" in result.output and "champ obligatoire manquant" in result.output
    assert "livré" in result.output and "non dû" in result.output
    assert (deliveries_root(economy.store) / "H1" / "2023-03" / "tous-mensuel").is_dir()
    assert not (deliveries_root(economy.store) / "H1" / "2023-03" / "tous-annuel").exists()


def test_an_unusable_engine_stops_the_run_with_its_own_error(
    economy: Economy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a failed delivery (``RunError``) but the engine's error, which the command reports
    in one French line; nothing is delivered."""
    from datadsn.engine.backends import EngineError, spark

    spec = spec_for(economy.region, nom="moteur-absent")
    hab = hab_info(economy.region)
    with pytest.raises(EngineError, match="moteur inconnu : postgres"):
        run(spec, economy.store, "2023-02", hab, engine="postgres")
    monkeypatch.setattr(spark, "_sessions", {})
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineError, match="moteur spark indisponible"):
        run(spec, economy.store, "2023-02", hab, engine="spark")
    assert not (deliveries_root(economy.store) / "H1" / "2023-02" / spec.nom).exists()
