"""The site over a real release: a small simulated economy, released by ``indicators.public``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from datadsn.indicators import public
from datadsn.indicators.catalogue import get
from datadsn.indicators.compute import Session
from datadsn.indicators.rules import Rules
from tests.economy import consolidated_economy

from .test_browser import browser, shot  # noqa: F401 (the chromium fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MONTH = "2023-06"
KEY = ["periode", "dimension", "code"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 employers over six months; EFF_FIN and EMBAUCHES are released (about 12 s; the whole
    catalogue, as ``datadsn indicators release`` does, takes a minute and a half here)."""
    root = tmp_path_factory.mktemp("publication-portail")
    store = consolidated_economy(root, employers=40, months=("2023-01", MONTH), seed=7)
    session = Session(store)
    try:
        public.release(session, store.root, MONTH, Rules(), (get("EFF_FIN"), get("EMBAUCHES")))
    finally:
        session.close()
    return store.root


@pytest.fixture
def released(warehouse: Path, settings: Any) -> pl.DataFrame:
    settings.WAREHOUSE = warehouse
    pub = public.latest(warehouse)
    assert pub is not None
    return pub.cells("EFF_FIN")


def _same_cells(served: pl.DataFrame, released: pl.DataFrame) -> None:
    """Every served cell is a released cell, with the released value and status."""
    columns = [*KEY, "valeur", "statut"]
    served = served.select(columns).with_columns(pl.col("code").cast(pl.Utf8))
    assert served.join(released.select(columns), on=KEY, how="anti", nulls_equal=True).is_empty()
    joined = served.join(released.select(columns), on=KEY, nulls_equal=True, suffix="_rel")
    assert joined.height == served.height
    assert (joined["statut"] == joined["statut_rel"]).all()
    assert joined.filter(pl.col("valeur").ne_missing(pl.col("valeur_rel"))).is_empty()
    assert (
        joined.filter(pl.col("statut") != "publie")["valeur"].null_count()
        == joined.filter(pl.col("statut") != "publie").height
    )


def test_release_has_masked_cells_to_protect(released: pl.DataFrame) -> None:
    assert released.filter(pl.col("statut") != "publie").height > 0


def test_pages_show_the_released_series(client: Any, released: pl.DataFrame) -> None:
    listing = client.get("/indicateurs/").content.decode()
    assert "Effectif salarié en fin de mois" in listing and f"{MONTH}" in listing
    page = client.get("/indicateurs/EFF_FIN/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'role="img" aria-labelledby="graphique-serie-titre' in html
    national = released.filter(pl.col("dimension") == "national")
    assert html.count('<th scope="row">2023-0') == national.height
    for dim in sorted(set(released["dimension"]) - {"national"}):
        body = client.get("/indicateurs/EFF_FIN/", {"par": dim}).content.decode()
        masked = released.filter(
            pl.col("dimension") == dim, pl.col("periode") == MONTH, pl.col("statut") != "publie"
        ).height
        assert body.count('<a href="#secret">secret</a>') >= masked, dim


def test_api_serves_exactly_the_released_cells(client: Any, released: pl.DataFrame) -> None:
    for dim in sorted(set(released["dimension"])):
        body = client.get("/api/indicateurs/EFF_FIN/valeurs", {"par": dim}).json()
        assert body["publication"] == MONTH and body["version"] == 1
        served = pl.DataFrame(body["cellules"], schema_overrides={"valeur": pl.Float64})
        assert served.height == released.filter(pl.col("dimension") == dim).height, dim
        _same_cells(served, released)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_downloads_hold_released_cells_only(client: Any, released: pl.DataFrame, fmt: str) -> None:
    data = client.get(f"/indicateurs/EFF_FIN/valeurs.{fmt}", {"par": "region"}).content
    if fmt == "csv":
        served = pl.read_csv(
            io.BytesIO(data), schema_overrides={"code": pl.Utf8, "valeur": pl.Float64}
        )
    elif fmt == "xlsx":
        served = pl.read_excel(io.BytesIO(data), sheet_name="valeurs", engine="openpyxl")
        served = served.with_columns(
            pl.col("code").cast(pl.Utf8), pl.col("valeur").cast(pl.Float64)
        )
    else:
        served = pl.read_parquet(io.BytesIO(data))
    assert (
        served.height
        == 6 + released.filter(pl.col("dimension") == "region", pl.col("periode") == MONTH).height
    )
    _same_cells(served, released)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_real_release_pages_pass_axe(
    browser: Any,  # noqa: F811
    live_server: Any,
    released: pl.DataFrame,
) -> None:
    from .test_published_browser import axe_clean

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/indicateurs/")
        axe_clean(page, "liste (publication réelle)")
        shot(page, "indicateurs-publies")
        for par in ("naf_a88", "region", "tranche_effectif"):
            page.goto(f"{live_server.url}/indicateurs/EFF_FIN/?par={par}")
            assert page.get_by_role(
                "img", name="Évolution de l'indicateur — France entière"
            ).is_visible()
            rows = released.filter(pl.col("dimension") == par, pl.col("periode") == MONTH).height
            assert page.locator("#table-ventilation tbody tr").count() == rows
            axe_clean(page, f"détail par {par} (publication réelle)")
            if par == "region":
                shot(page, "indicateur-detail")
    finally:
        context.close()
