"""Published indicators on the site: pages, downloads and API over a small release."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook

from .releases import LEAK, MASKED_MONTH, write_release

pytestmark = pytest.mark.django_db

# Every way the planted value of a masked cell could be written out.
LEAK_TEXTS = ("987654", "987 654", "987\u202f654", "987\u00a0654", "9.87654e")


@pytest.fixture
def release(tmp_path: Path, settings: Any) -> Path:
    settings.WAREHOUSE = tmp_path
    write_release(tmp_path)
    return tmp_path


def assert_no_leak(text: str, where: str) -> None:
    for leak in LEAK_TEXTS:
        assert leak not in text, f"valeur d'une case masquée servie dans {where}"


def test_no_release_pages_and_api_say_so(client: Any, tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE = tmp_path
    page = client.get("/indicateurs/")
    assert page.status_code == 200 and "Aucune publication" in page.content.decode()
    detail = client.get("/indicateurs/EFF_FIN/")
    assert detail.status_code == 200 and "Pas encore publié" in detail.content.decode()
    api = client.get("/api/indicateurs/EFF_FIN/valeurs")
    assert api.status_code == 404 and "Aucune publication" in api.json()["detail"]
    assert client.get("/indicateurs/EFF_FIN/valeurs.csv").status_code == 404


def test_list_shows_latest_national_value_and_trend(client: Any, release: Path) -> None:
    html = client.get("/indicateurs/").content.decode()
    assert "Effectif salarié en fin de mois" in html and "/indicateurs/EFF_FIN/" in html
    assert "12\u202f110\u202fpostes" in html  # 2024-12 national value (12000 + 10 * 11)
    assert html.count('class="ddsn-spark" role="img" aria-label="De 2024-01 à 2024-12') == 2


def test_detail_default_view_series_breakdown_and_secret(client: Any, release: Path) -> None:
    response = client.get("/indicateurs/EFF_FIN/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-labelledby="graphique-serie-titre graphique-serie-desc"' in html
    assert "1 valeur(s) couverte(s) par le secret statistique" in html
    # Default breakdown of EFF_FIN is by NAF section, at the last month.
    assert "Ventilation — Section de la NAF rev. 2 de l&#x27;établissement (A21), 2024-12" in html
    assert "Hébergement et restauration" in html and "secret (secondaire)" in html
    assert "Pourquoi certaines cases sont « secret »" in html
    # SVG coordinates are never localised (« 90,0 » would place each glyph apart).
    assert not re.search(r'\b(x|y|cx|cy|width|x1|y1)="\d+,\d', html)
    assert_no_leak(html, "la page")


def test_filters_territory_period_and_sort(client: Any, release: Path) -> None:
    html = client.get(
        "/indicateurs/EFF_FIN/",
        {
            "territoire": "region:32",
            "par": "departement",
            "periode": "2024-06",
            "tri": "valeur",
            "ordre": "desc",
        },
    ).content.decode()
    assert "Évolution — Hauts-de-France" in html
    assert "2024-06" in html and 'aria-sort="descending"' in html
    table = html[html.index('id="table-ventilation"') :]
    assert table.index("Nord") < table.index("Paris")  # 6000+5 before 4000+5, masked last
    assert table.index("Paris") < table.index("Pas-de-Calais")


def test_bad_filter_is_explained_in_french(client: Any, release: Path) -> None:
    response = client.get("/indicateurs/EFF_FIN/", {"periode": "2019-01"})
    assert response.status_code == 400
    assert "La période « 2019-01 » n&#x27;est pas publiée" in response.content.decode()
    both = client.get(
        "/indicateurs/EFF_FIN/", {"territoire": "region:32", "secteur": "naf_section:C"}
    )
    assert "ne croise pas territoire et secteur" in both.content.decode()
    assert client.get("/indicateurs/INCONNU/").status_code == 404


def _shown(client: Any, params: dict[str, str]) -> pl.DataFrame:
    data = client.get("/indicateurs/EFF_FIN/valeurs.parquet", params).content
    return pl.read_parquet(io.BytesIO(data))


def test_downloads_hold_exactly_what_is_shown(client: Any, release: Path) -> None:
    params = {"par": "departement", "periode": "2024-03", "secteur": "naf_section:G"}
    frame = _shown(client, params)
    # 12 months of the Commerce series, then the 3 départements of 2024-03.
    assert frame.height == 12 + 3
    assert set(frame.filter(pl.col("dimension") == "naf_section")["code"]) == {"G"}
    assert set(frame.filter(pl.col("dimension") == "departement")["periode"]) == {"2024-03"}
    csv_text = client.get("/indicateurs/EFF_FIN/valeurs.csv", params).content.decode()
    assert pl.read_csv(io.StringIO(csv_text), schema_overrides={"code": pl.Utf8}).height == 15
    book = load_workbook(
        io.BytesIO(client.get("/indicateurs/EFF_FIN/valeurs.xlsx", params).content)
    )
    assert book["valeurs"].max_row == 1 + 15
    response = client.get("/indicateurs/EFF_FIN/valeurs.csv", params)
    assert "EFF_FIN_2024-12_v1_departement_2024-03.csv" in response["Content-Disposition"]


def test_api_serves_released_cells_with_nulls_for_secret(client: Any, release: Path) -> None:
    body = client.get("/api/indicateurs/EFF_FIN/valeurs").json()
    assert body["publication"] == "2024-12" and body["version"] == 1
    cells = body["cellules"]
    assert [c["periode"] for c in cells] == [f"2024-{m:02d}" for m in range(1, 13)]
    masked = next(c for c in cells if c["periode"] == MASKED_MONTH)
    assert masked["valeur"] is None and masked["statut"] == "masque_primaire"
    one = client.get(
        "/api/indicateurs/EFF_FIN/valeurs",
        {"par": "region", "territoire": "32", "periode": "2024-12"},
    ).json()["cellules"]
    assert one == [
        {"periode": "2024-12", "dimension": "region", "code": "32", "libelle": "Hauts-de-France",
         "valeur": 6011.0, "unite": "postes", "statut": "publie"}
    ]  # fmt: skip
    same = client.get(
        "/api/indicateurs/EFF_FIN/valeurs", {"territoire": "region:32", "periode": "2024-12"}
    )
    assert same.json()["cellules"] == one


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"periode": "2030-01"}, "n'est pas publiée"),
        ({"par": "commune"}, "n'est pas publiée pour cet indicateur"),
        ({"territoire": "32"}, "Précisez la dimension du territoire"),
        ({"territoire": "region:99"}, "n'est pas dans la publication"),
        ({"par": "departement", "territoire": "region:32"}, "n'appartient pas"),
    ],
)
def test_api_rejects_what_the_release_does_not_hold(
    client: Any, release: Path, params: dict[str, str], message: str
) -> None:
    response = client.get("/api/indicateurs/EFF_FIN/valeurs", params)
    assert response.status_code == 400 and message in response.json()["detail"]


def test_api_unknown_code_is_404_in_french(client: Any, release: Path) -> None:
    response = client.get("/api/indicateurs/INCONNU/valeurs")
    assert response.status_code == 404 and "absent de la publication" in response.json()["detail"]


def test_api_is_in_the_openapi_schema(client: Any) -> None:
    schema = client.get("/api/openapi.json").json()
    op = schema["paths"]["/api/indicateurs/{code}/valeurs"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"code", "periode", "par", "territoire"}
    assert {"200", "400", "404"} <= set(op["responses"])
    assert "/api/indicateurs/{code}/valeurs" in client.get("/documentation/api/").content.decode()
    assert 'href="/indicateurs/"' in client.get("/").content.decode()
    assert (
        'href="/indicateurs/EFF_FIN/"' in client.get("/documentation/indicateurs/").content.decode()
    )


VIEWS = [
    {},
    {"par": "departement", "periode": MASKED_MONTH},
    {"par": "region", "territoire": "departement:62"},
    {"par": "naf_section", "secteur": "naf_section:I", "tri": "valeur"},
]


@pytest.mark.parametrize("params", VIEWS)
def test_no_masked_value_is_served_anywhere(
    client: Any, release: Path, params: dict[str, str]
) -> None:
    """The release file holds a value in its masked cells: no page, file or API answer shows it."""
    assert_no_leak(client.get("/indicateurs/").content.decode(), "la liste")
    assert_no_leak(client.get("/indicateurs/EFF_FIN/", params).content.decode(), "la page")
    for fmt in ("csv", "xlsx", "parquet"):
        data = client.get(f"/indicateurs/EFF_FIN/valeurs.{fmt}", params).content
        if fmt == "csv":
            assert_no_leak(data.decode(), "le CSV")
        elif fmt == "xlsx":
            values = [
                c
                for row in load_workbook(io.BytesIO(data))["valeurs"].iter_rows(values_only=True)
                for c in row
            ]
            assert LEAK not in values
        else:
            frame = pl.read_parquet(io.BytesIO(data))
            assert LEAK not in frame["valeur"].to_list()
            assert (
                frame.filter(pl.col("statut") != "publie")["valeur"].null_count()
                == frame.filter(pl.col("statut") != "publie").height
            )
    api_params = {k: v for k, v in params.items() if k in ("par", "periode")}
    for extra in ({}, {"territoire": "departement:62"}, {"par": "naf_section"}):
        query = {**api_params, **extra}
        if "territoire" in query:
            query.pop("par", None)
        response = client.get("/api/indicateurs/EFF_FIN/valeurs", query)
        assert response.status_code == 200, response.content
        assert_no_leak(json.dumps(response.json()), "l'API")
    # And the masked cells are really in what was served (the test looks where they are).
    assert (
        "masque_secondaire"
        in client.get("/api/indicateurs/EFF_FIN/valeurs", {"par": "naf_section"}).content.decode()
    )


def test_new_request_suggests_matching_published_indicators(
    client: Any, release: Path, world: Any
) -> None:
    client.force_login(world.users["req_a"])
    blank = client.get("/demandes/nouvelle/").content.decode()
    assert "Votre besoin est peut-être déjà couvert" in blank and 'id="suggestions"' not in blank
    html = client.get(
        "/demandes/nouvelle/", {"besoin_par": "region", "besoin_code": "32"}
    ).content.decode()
    assert "2 indicateur(s) publié(s)" in html
    assert "/indicateurs/EFF_FIN/?par=region&amp;territoire=region%3A32" in html
    # Pas-de-Calais is masked in every month: nothing published answers for it.
    none = client.get("/demandes/nouvelle/", {"besoin_par": "departement", "besoin_code": "62"})
    assert "Aucun indicateur publié ne répond" in none.content.decode()
    assert 'name="controller_name"' in none.content.decode()  # the step-1 form is still there


def test_new_request_without_release_has_no_suggestion_box(
    client: Any, tmp_path: Path, settings: Any, world: Any
) -> None:
    settings.WAREHOUSE = tmp_path
    client.force_login(world.users["req_a"])
    assert "déjà couvert" not in client.get("/demandes/nouvelle/").content.decode()


def test_unreadable_release_is_no_release_not_a_500(client: Any, release: Path) -> None:
    meta = release / "publications" / "2024-12" / "release.json"
    meta.write_text(json.dumps({"format": "autre/9"}), encoding="utf-8")
    page = client.get("/indicateurs/")
    assert page.status_code == 200 and "Aucune publication" in page.content.decode()
    assert client.get("/api/indicateurs/EFF_FIN/valeurs").status_code == 404


def test_a_share_without_national_value(client: Any, release: Path) -> None:
    listing = client.get("/indicateurs/").content.decode()
    assert "Pas de valeur nationale : répartition" in listing
    page = client.get("/indicateurs/REPARTITION_CONTRATS/")
    html = page.content.decode()
    assert page.status_code == 200 and "pas de valeur nationale publiée" in html
    assert "Ventilation — Nature du contrat" in html, html[html.find('id="ventilation"') :][:300]
    assert "70\u202f%" in html
    api = client.get("/api/indicateurs/REPARTITION_CONTRATS/valeurs")
    assert api.status_code == 400 and "disponibles : nature_contrat" in api.json()["detail"]
    cells = client.get("/api/indicateurs/REPARTITION_CONTRATS/valeurs", {"par": "nature_contrat"})
    assert len(cells.json()["cellules"]) == 24


def test_region_breakdown_has_a_tile_map(client: Any, release: Path) -> None:
    html = client.get("/indicateurs/EFF_FIN/", {"par": "region"}).content.decode()
    assert 'aria-labelledby="carte-regions-titre carte-regions-desc"' in html
    assert "<title>Hauts-de-France : 6\u202f011\u202fpostes</title>" in html
    assert "<title>Île-de-France : secret</title>" in html
    assert "1 région(s) couverte(s) par le secret" in html
    assert (
        "carte-regions" not in client.get("/indicateurs/EFF_FIN/", {"par": "sexe"}).content.decode()
    )


def test_an_indicator_released_without_cells_is_not_published(client: Any, release: Path) -> None:
    path = release / "publications" / "2024-12" / "EFF_MOY.parquet"
    pl.read_parquet(path).clear().write_parquet(path)
    page = client.get("/indicateurs/EFF_MOY/")
    assert page.status_code == 200 and "ne contient pas cet indicateur" in page.content.decode()
    assert client.get("/indicateurs/EFF_MOY/valeurs.csv").status_code == 404
    assert "/indicateurs/EFF_MOY/" not in client.get("/indicateurs/").content.decode()
    assert client.get("/api/indicateurs/EFF_MOY/valeurs").status_code == 404


def test_portal_pages_do_not_load_the_release_machinery() -> None:
    """The reader module brings scipy and duckdb: only pages reading a release import it."""
    import subprocess
    import sys

    code = (
        "import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'datadsn.portal.settings'; "
        "django.setup(); import datadsn.portal.urls; "
        "print(sorted(m for m in ('scipy', 'duckdb') if m in sys.modules))"
    )
    env = {**os.environ, "DATADSN_SECRET_KEY": "tests-only-secret-key-0123456789abcdef"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
