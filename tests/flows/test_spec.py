"""Spec validation and scope checks, every error explained in French; the CLI on its own app."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from datadsn.cli import app as datadsn_app
from datadsn.cli import flows as flow_cli
from datadsn.flows.gallery import get_template, instantiate, templates
from datadsn.flows.habilitation import check_scope
from datadsn.flows.spec import SpecError, check, load, parse

from .conftest import hab_info

GOOD = """
version: 1
nom: effectifs-region
habilitation: H1
perimetre:
  regions: ["84"]
indicateurs:
  - code: EFF_FIN
    dimensions: [naf_section, departement]
periodicite: mois
formats: [csv]
"""


def app() -> typer.Typer:
    return datadsn_app


def test_valid_spec_parses() -> None:
    spec = load_text(GOOD)
    assert spec.nom == "effectifs-region"
    assert spec.perimetre.regions == ("84",)
    assert spec.indicateurs[0].dimensions == ("naf_section", "departement")


def load_text(text: str):
    import yaml

    return parse(yaml.safe_load(text))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"nom": "Mauvais Nom"}, "minuscules, chiffres et tirets"),
        ({"habilitation": "12"}, "par exemple H12"),
        ({"periodicite": "hebdo"}, "valeurs possibles : mois, trimestre, annee"),
        ({"formats": ["pdf"]}, "valeur 'pdf' non permise"),
        ({"perimetre": {"siren": ["12345"]}}, "SIREN à 9 chiffres"),
        ({"perimetre": {"communes": ["69123"]}}, "champ inconnu communes"),
        ({"indicateurs": [{"code": "INCONNU"}]}, "INCONNU"),
        ({"indicateurs": [{"code": "EFF_FIN", "dimensions": ["couleur"]}]}, "dimension inconnue"),
        ({"secret": {"min_salaries": 2}}, "moins protecteur que la règle commune"),
        ({"secret": {"dominance_pct": 95}}, "seulement durcir"),
        ({"perimetre": {"departements": ["99"]}}, "département inconnu 99"),
        ({"extraction": {"colonnes": ["mois"]}}, "soit des indicateurs, soit une extraction"),
    ],
)
def test_errors_are_explained(change: dict, expected: str) -> None:
    import yaml

    data = yaml.safe_load(GOOD)
    data.update(change)
    problems = check(data)
    assert any(expected in p for p in problems), problems


def test_missing_fields_and_all_errors_at_once() -> None:
    problems = check({"version": 1, "nom": "x"})
    joined = "\n".join(problems)
    assert "champ obligatoire manquant : l'habilitation servie" in joined
    assert "la périodicité" in joined and "les formats de sortie" in joined
    assert "mal formée" in joined  # the name is too short
    with pytest.raises(SpecError) as exc:
        parse({"version": 1, "nom": "x"})
    assert len(exc.value.problems) == len(problems)


def test_unreadable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("nom: [ouvert\n", encoding="utf-8")
    with pytest.raises(SpecError, match="YAML illisible"):
        load(path)


def test_scope_checks() -> None:
    spec = load_text(GOOD)
    assert check_scope(spec, hab_info("84")) == []
    outside = check_scope(spec, hab_info("11"))
    assert any("hors du territoire accordé" in p for p in outside)
    narrow = hab_info("84", scope={**hab_info("84").scope, "indicateurs": ["EMBAUCHES"]})
    assert any("EFF_FIN n'est pas dans le périmètre" in p for p in check_scope(spec, narrow))
    yearly = hab_info("84", scope={**hab_info("84").scope, "frequence": "annuelle"})
    assert any("plus fréquente" in p for p in check_scope(spec, yearly))
    companies = hab_info(
        "84",
        scope={
            **hab_info("84").scope,
            "extraction": {"population": "Entreprises 123456789 et 987654321", "territoire": ""},
        },
    )
    assert any("perimetre.siren" in p for p in check_scope(spec, companies))
    extract = load_text(GOOD.replace(
        "indicateurs:\n  - code: EFF_FIN\n    dimensions: [naf_section, departement]\n",
        "extraction:\n  colonnes: [mois, sexe]\n",
    ))  # fmt: skip
    assert any("n'autorise pas d'extraction" in p for p in check_scope(extract, hab_info("84")))
    assert hab_info("84", request_approved=False).usable()


def test_sector_and_nature_limits_of_the_habilitation() -> None:
    def limited(**extraction: object):  # type: ignore[no-untyped-def]
        scope = hab_info("84").scope
        return hab_info("84", scope={**scope, "extraction": {**scope["extraction"], **extraction}})

    spec = load_text(GOOD)  # no sector, no nature: the whole population of the region
    assert any("perimetre.naf" in p for p in check_scope(spec, limited(naf=["47"])))
    assert any("natures_contrat" in p for p in check_scope(spec, limited(natures_contrat=["03"])))
    inside = load_text(GOOD.replace('regions: ["84"]', 'regions: ["84"]\n  naf: ["47.11"]'))
    assert check_scope(inside, limited(naf=["47"])) == []
    outside = load_text(GOOD.replace('regions: ["84"]', 'regions: ["84"]\n  naf: ["56"]'))
    assert any("secteur NAF 56" in p for p in check_scope(outside, limited(naf=["47"])))
    natures = load_text(
        GOOD.replace('regions: ["84"]', 'regions: ["84"]\n  natures_contrat: ["01", "03"]')
    )
    assert check_scope(natures, limited(natures_contrat=["01", "03"])) == []
    assert any(
        "nature de contrat 01" in p for p in check_scope(natures, limited(natures_contrat=["03"]))
    )


def test_gallery_templates_instantiate_within_scope() -> None:
    names = {t.name for t in templates()}
    assert {"effectifs-embauches-region", "embauches-fins-entreprises", "interim-secteur",
            "devenir-cohorte"} <= names  # fmt: skip
    hab = hab_info("84")
    text, data = instantiate(get_template("effectifs-embauches-region"), hab)
    spec = parse(data)
    assert spec.perimetre.regions == ("84",) and check_scope(spec, hab) == []
    assert "H1" in text and load_text(text) == spec
    companies = hab_info(
        "84",
        scope={
            "indicateurs": ["EMBAUCHES", "FINS_CONTRAT"],
            "extraction": {"population": "SIREN 123456789, 987654321", "territoire": ""},
            "frequence": "mensuelle",
        },
    )
    spec = parse(instantiate(get_template("embauches-fins-entreprises"), companies)[1])
    assert spec.perimetre.siren == ("123456789", "987654321")
    assert check_scope(spec, companies) == []


def test_cli_validate_new_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_cli, "lookup", lambda ref: hab_info("84"))
    runner = CliRunner()
    good = tmp_path / "ok.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(app(), ["flow", "validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "spécification valide" in result.output
    bad = tmp_path / "ko.yaml"
    bad.write_text(GOOD.replace("periodicite: mois", "periodicite: hebdo"), encoding="utf-8")
    result = runner.invoke(app(), ["flow", "validate", str(bad)])
    assert result.exit_code == 1
    assert "valeurs possibles" in result.output
    outside = tmp_path / "hors.yaml"
    outside.write_text(GOOD.replace('"84"', '"11"'), encoding="utf-8")
    result = runner.invoke(app(), ["flow", "validate", str(outside)])
    assert result.exit_code == 1 and "hors du territoire" in result.output
    result = runner.invoke(app(), ["flow", "templates"])
    assert result.exit_code == 0 and "interim-secteur" in result.output
    target = tmp_path / "nouveau.yaml"
    result = runner.invoke(
        app(),
        ["flow", "new", "--template", "effectifs-embauches-region", "--habilitation", "H1",
         "--out", str(target)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert load(target).habilitation == "H1"
    monkeypatch.setattr(flow_cli, "lookup", lambda ref: hab_info("84", status="revoquee"))
    result = runner.invoke(
        app(), ["flow", "new", "--template", "interim-secteur", "--habilitation", "H1"]
    )
    assert result.exit_code == 1 and "création impossible" in result.output


def test_templates_carry_the_sector_and_nature_limits_over() -> None:
    scope = hab_info("84").scope
    hab = hab_info(
        "84",
        scope={
            **scope,
            "extraction": {**scope["extraction"], "naf": ["47"], "natures_contrat": ["03"]},
        },
    )
    for template in templates():
        if template.name == "devenir-cohorte":
            continue  # an extract: this habilitation grants none
        _, data = instantiate(template, hab)
        assert data["perimetre"]["naf"] == ["47"] and data["perimetre"]["natures_contrat"] == ["03"]
        problems = check_scope(parse(data), hab)
        assert not [p for p in problems if "secteur" in p or "nature" in p], template.name
