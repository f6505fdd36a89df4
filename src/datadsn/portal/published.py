"""The published indicators as the site serves them: the latest monthly release, read from files.

``datadsn indicators release`` writes ``<warehouse>/publications/<YYYY-MM>`` (a link to an
immutable version). This module is the portal's one reader of released cells: pages, downloads,
the API and the orientation of a new request all select rows here, and every cell whose status is
not « publie » has its value emptied here, whatever the file holds.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import polars as pl
from django.conf import settings

from datadsn.indicators.catalogue import CATALOGUE, DIMENSIONS

if TYPE_CHECKING:
    from datadsn.indicators.public import Publication

# ``indicators.public`` (the reader) brings highspy and duckdb with the release code: it is imported
# when a release is read, so that the other pages of the portal do not pay for it.
NATIONAL = "national"  # the contract's national "dimension" (public.NATIONAL)
PUBLISHED = "publie"
TERRITORIES = ("region", "departement", "commune")
SECTORS = ("naf_section", "naf_a38", "naf_a88", "naf_sous_classe")
STATUS_LABELS = {
    PUBLISHED: "publiée",
    "masque_primaire": "secret (primaire)",
    "masque_secondaire": "secret (secondaire)",
}
SORT_KEYS = ("libelle", "code", "valeur")
DEFAULT_DIMS = {i.code: i.par_defaut for i in CATALOGUE}
log = logging.getLogger(__name__)


class FilterError(ValueError):
    """A filter names something the release does not hold (message in French, for the user)."""


# --- Reading the release (through ``indicators.public``, the one reader of the layout) ---------


def current() -> Publication | None:
    """The latest release, or None when there is none (or it cannot be read: logged, and the
    pages then say that nothing is published rather than failing)."""
    from datadsn.indicators import public

    try:
        return public.latest(Path(settings.WAREHOUSE))
    except public.PublicationError:
        log.exception("publication illisible dans %s", settings.WAREHOUSE)
        return None


def entry(pub: Publication, code: str) -> dict[str, Any] | None:
    """The release's metadata of ``code`` (title, unit, definition...), None if not released."""
    return next((dict(e) for e in pub.meta["indicateurs"] if e["code"] == code), None)


def find(code: str) -> tuple[Publication | None, dict[str, Any] | None]:
    """The latest release and its entry for ``code`` (None when ``code`` has no released cell)."""
    pub = current()
    found = entry(pub, code) if pub else None
    if pub is None or found is None or cells(pub, code).is_empty():
        return pub, None
    return pub, found


@lru_cache(maxsize=64)
def _cells(path: Path) -> pl.DataFrame:
    # A version folder is immutable (files read-only, a new version is a new folder).
    return safe(pl.read_parquet(path))


def cells(pub: Publication, code: str) -> pl.DataFrame:
    """The released cells of ``code`` (which the release must hold)."""
    return _cells(pub.path(code))


def safe(df: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns, with no value left in a cell that is not published."""
    from datadsn.indicators.public import COLUMNS

    typed = df.select(pl.col(name).cast(dtype) for name, dtype in COLUMNS.items())
    return typed.with_columns(
        pl.when(pl.col("statut") == PUBLISHED)
        .then(pl.col("valeur"))
        .otherwise(None)
        .alias("valeur")
    )


# --- Selecting what is shown --------------------------------------------------------------------


def dimension_label(dim: str) -> str:
    if dim == NATIONAL:
        from datadsn.indicators.public import NATIONAL_LABEL

        return NATIONAL_LABEL
    label = DIMENSIONS.get(dim, dim)
    return label[:1].upper() + label[1:]


def periods(df: pl.DataFrame) -> list[str]:
    return sorted(df["periode"].unique().to_list())


def dimensions(df: pl.DataFrame) -> list[str]:
    """The breakdowns the release holds, in the catalogue's order."""
    present = set(df["dimension"].unique().to_list()) - {NATIONAL}
    return [d for d in DIMENSIONS if d in present] + sorted(present - set(DIMENSIONS))


def categories(df: pl.DataFrame, dim: str) -> list[tuple[str, str]]:
    rows = df.filter(pl.col("dimension") == dim).select("code", "libelle").unique().sort("code")
    return [(str(c), str(lbl or c)) for c, lbl in rows.iter_rows()]


@dataclass(frozen=True)
class Category:
    dimension: str
    code: str

    @property
    def key(self) -> str:
        return f"{self.dimension}:{self.code}"


def parse_category(
    df: pl.DataFrame, value: str, allowed: tuple[str, ...], par: str | None, what: str
) -> Category | None:
    """``dimension:code`` (or a bare code when ``par`` names one of the ``allowed`` dimensions)."""
    value = (value or "").strip()
    if not value:
        return None
    dim, sep, code = value.partition(":")
    if not sep:
        dim, code = par or "", value
        if dim not in allowed:
            raise FilterError(
                f"Précisez la dimension du {what} ({' ou '.join(allowed[:2])}), par exemple "
                f"« {allowed[0]}:{code} » ou par={allowed[0]}."
            )
    if dim not in allowed:
        raise FilterError(f"« {dim} » n'est pas une dimension de {what} ({', '.join(allowed)}).")
    if code not in {c for c, _ in categories(df, dim)}:
        raise FilterError(f"Le {what} « {dim}:{code} » n'est pas dans la publication.")
    return Category(dim, code)


def select(
    df: pl.DataFrame, dimension: str, code: str | None = None, periode: str | None = None
) -> pl.DataFrame:
    rows = df.filter(pl.col("dimension") == dimension)
    if code is not None:
        rows = rows.filter(pl.col("code") == code)
    if periode is not None:
        rows = rows.filter(pl.col("periode") == periode)
    return rows.sort("periode", "code", nulls_last=True)


def check_period(df: pl.DataFrame, periode: str | None) -> str | None:
    if periode and periode not in periods(df):
        span = periods(df)
        raise FilterError(
            f"La période « {periode} » n'est pas publiée (de {span[0]} à {span[-1]}, au format AAAA-MM)."
        )
    return periode or None


def check_dimension(df: pl.DataFrame, par: str) -> str:
    # A share along a dimension (REPARTITION_CONTRATS) has no national value.
    national = [NATIONAL] if (df["dimension"] == NATIONAL).any() else []
    if par not in national + dimensions(df):
        raise FilterError(
            f"La ventilation « {par} » n'est pas publiée pour cet indicateur "
            f"(disponibles : {', '.join(national + dimensions(df))})."
        )
    return par


def api_cells(df: pl.DataFrame, periode: str, par: str, territoire: str) -> pl.DataFrame:
    """The cells the API serves: one breakdown (national by default), optionally one month and
    one territory (``region:32``, or ``32`` with ``par=region``)."""
    month = check_period(df, periode)
    place = parse_category(df, territoire, TERRITORIES, par or None, "territoire")
    if place and par and par != place.dimension:
        raise FilterError(
            f"Le territoire « {place.key} » n'appartient pas à la ventilation « {par} »."
        )
    dim = check_dimension(df, place.dimension if place else (par or NATIONAL))
    return select(df, dim, place.code if place else None, month)


@dataclass(frozen=True)
class Shown:
    """What the detail page of an indicator shows, and so what its downloads hold."""

    periode: str
    par: str
    focus: Category | None
    tri: str
    ordre: str
    series: pl.DataFrame
    breakdown: pl.DataFrame

    @property
    def rows(self) -> pl.DataFrame:
        return pl.concat([self.series, self.breakdown])

    def query(self, **changes: str) -> dict[str, str]:
        params = {"periode": self.periode, "par": self.par, "tri": self.tri, "ordre": self.ordre}
        if self.focus is not None:
            key = "territoire" if self.focus.dimension in TERRITORIES else "secteur"
            params[key] = self.focus.key
        params.update(changes)
        return params


def shown(df: pl.DataFrame, code: str, params: Any) -> Shown:
    """Parse the page's filters (GET parameters) against the release and select the rows."""
    span = periods(df)
    periode = check_period(df, params.get("periode")) or span[-1]
    dims = dimensions(df)
    wanted = params.get("par") or next(
        (d for d in DEFAULT_DIMS.get(code, ()) if d in dims), dims[0] if dims else NATIONAL
    )
    par = check_dimension(df, wanted)
    territoire = parse_category(df, params.get("territoire", ""), TERRITORIES, par, "territoire")
    secteur = parse_category(df, params.get("secteur", ""), SECTORS, par, "secteur")
    if territoire and secteur:
        raise FilterError(
            "La publication ne croise pas territoire et secteur : choisissez l'un ou l'autre."
        )
    focus = territoire or secteur
    series = (select(df, focus.dimension, focus.code) if focus else select(df, NATIONAL)).sort(
        "periode"
    )
    tri = params.get("tri") if params.get("tri") in SORT_KEYS else "code"
    ordre = "desc" if params.get("ordre") == "desc" else "asc"
    breakdown = select(df, par, periode=periode) if par != NATIONAL else df.clear()
    breakdown = breakdown.sort(tri, descending=ordre == "desc", nulls_last=True)
    return Shown(periode, par, focus, tri, ordre, series, breakdown)


# --- Downloads ------------------------------------------------------------------------------------

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}


def export(rows: pl.DataFrame, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "csv":
        rows.write_csv(out)
    elif fmt == "parquet":
        rows.write_parquet(out)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("valeurs")
        sheet.append(rows.columns)
        for row in rows.iter_rows():
            sheet.append(list(row))
        book.save(out)
    else:
        raise FilterError(f"Format inconnu « {fmt} » : csv, xlsx ou parquet.")
    return out.getvalue()


# --- Orientation of a new request ---------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    code: str
    titre: str
    unite: str
    query: str


def suggestions(pub: Publication | None, dim: str, territoire: str = "") -> list[Suggestion]:
    """The released indicators broken down by ``dim`` (and holding a published value for the
    territory ``territoire`` of that breakdown, when one is given)."""
    if pub is None or not dim:
        return []
    found = []
    for entry in pub.meta["indicateurs"]:
        df = cells(pub, entry["code"])
        rows = select(df, dim)
        params = {"par": dim}
        if territoire:
            rows = rows.filter(pl.col("code") == territoire)
            if dim in TERRITORIES + SECTORS:
                key = "territoire" if dim in TERRITORIES else "secteur"
                params[key] = f"{dim}:{territoire}"
        if rows.filter(pl.col("statut") == PUBLISHED).is_empty():
            continue
        found.append(Suggestion(entry["code"], entry["titre"], entry["unite"], urlencode(params)))
    return found
