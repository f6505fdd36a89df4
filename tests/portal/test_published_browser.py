"""The published indicators in headless Debian chromium: list, detail, filters, sort, download, axe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from .releases import write_release
from .test_browser import browser  # noqa: F401 (the module's chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_clean(page: Any, name: str) -> None:
    """No axe violation at all, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert not violations, f"{name} : " + "; ".join(
        f"{v['id']} ({v['impact']}) : {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


@pytest.fixture
def page(browser: Any, live_server: Any, settings: Any, tmp_path: Path) -> Any:  # noqa: F811
    settings.WAREHOUSE = tmp_path
    write_release(tmp_path)
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(10_000)
    p = context.new_page()
    p.base = live_server.url
    yield p
    context.close()


def test_list_then_detail_chart_table_filters_sort_and_download(page: Any, tmp_path: Path) -> None:
    page.goto(page.base + "/indicateurs/")
    assert page.get_by_role("heading", name="Indicateurs publiés").is_visible()
    spark = page.locator("svg.ddsn-spark").first
    assert spark.get_attribute("role") == "img"
    assert spark.get_attribute("aria-label").startswith("De 2024-01 à 2024-12")
    axe_clean(page, "liste des indicateurs publiés")

    with page.expect_navigation():
        page.get_by_role("link", name="Effectif salarié en fin de mois").click()
    assert page.url.endswith("/indicateurs/EFF_FIN/")
    chart = page.get_by_role("img", name=re.compile("Évolution de l'indicateur — France entière"))
    assert chart.is_visible()
    assert page.locator("#table-serie tbody tr").count() == 12
    assert page.locator("#table-serie tbody").get_by_role("link", name="secret").count() == 1
    axe_clean(page, "détail d'un indicateur")

    # Filters are a plain GET form.
    page.get_by_label("Ventilation", exact=True).select_option("departement")
    page.get_by_label("Territoire de la série").select_option("region:32")
    page.get_by_label("Mois de la ventilation").select_option("2024-06")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    assert page.get_by_role("heading", name="Évolution — Hauts-de-France").is_visible()
    assert page.get_by_role(
        "heading", name=re.compile("Ventilation — Département.*2024-06")
    ).is_visible()

    # Sorting by value, from the keyboard: the header is a link.
    page.get_by_role("link", name=re.compile("^Valeur")).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Valeur")).click()
    header = page.locator("#table-ventilation th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    names = page.locator("#table-ventilation tbody th").all_inner_texts()
    assert names == ["Nord", "Paris", "Pas-de-Calais"]  # masked cell last
    axe_clean(page, "détail filtré et trié")

    # The download holds exactly the rows of the two tables on the page.
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Télécharger les valeurs.*CSV")).click()
    path = tmp_path / "telechargement.csv"
    info.value.save_as(path)
    frame = pl.read_csv(path, schema_overrides={"code": pl.Utf8})
    shown = (
        page.locator("#table-serie tbody tr").count()
        + page.locator("#table-ventilation tbody tr").count()
    )
    assert frame.height == shown == 12 + 3
    assert frame.filter(pl.col("dimension") == "departement")["libelle"].to_list() == names


def test_orientation_on_the_first_step_of_a_new_request(page: Any) -> None:
    from .conftest import PASSWORD, build_world

    world = build_world()
    page.goto(page.base + "/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(world.users["req_a"].email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    page.goto(page.base + "/demandes/nouvelle/")
    page.get_by_label("Ventilation souhaitée").select_option("departement")
    page.get_by_label(re.compile("Code du territoire ou du secteur")).fill("59")
    with page.expect_navigation():
        page.get_by_role("button", name="Chercher").click()
    links = page.locator("#suggestions a")
    assert links.count() == 2
    axe_clean(page, "première étape avec suggestions")
    with page.expect_navigation():
        links.first.click()
    assert page.get_by_role("heading", name="Évolution — Nord").is_visible()
