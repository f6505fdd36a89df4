"""Public pages of the published indicators: the list, one page per indicator, its downloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import polars as pl
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import charts, published
from .catalogue import INDICATOR_NAMES
from .published import FilterError

if TYPE_CHECKING:
    from datadsn.indicators.public import Publication


def _series(df: pl.DataFrame) -> list[tuple[str, float | None]]:
    return [(str(p), v) for p, v in df.select("periode", "valeur").iter_rows()]


def published_list(request: HttpRequest) -> HttpResponse:
    pub = published.current()
    if pub is None:
        return render(request, "portal/published_list.html", {"pub": None, "rows": []})
    rows = []
    for entry in pub.meta["indicateurs"]:
        df = published.cells(pub, entry["code"])
        if df.is_empty():
            continue
        national = published.select(df, published.NATIONAL)
        series = _series(national.sort("periode"))
        last = series[-1] if series else ("", None)
        rows.append(
            {
                **entry,
                "periode": last[0],
                "valeur": charts.number(last[1], entry["unite"]),
                "masked": last[1] is None,
                "spark": charts.sparkline(series, entry["unite"]),
            }
        )
    return render(request, "portal/published_list.html", {"pub": pub, "rows": rows})


def _indicator(code: str) -> tuple[Publication | None, dict[str, Any] | None]:
    """The release and its entry for ``code``; 404 for a code the catalogue does not know."""
    if code not in INDICATOR_NAMES:
        raise Http404("Indicateur inconnu.")
    return published.find(code)


def _table(rows: pl.DataFrame, unit: str) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "texte": charts.number(row["valeur"], unit),
            "masked": row["statut"] != published.PUBLISHED,
            "statut_texte": published.STATUS_LABELS.get(row["statut"], row["statut"]),
        }
        for row in rows.iter_rows(named=True)
    ]


def _sort_links(shown: published.Shown) -> list[dict[str, str]]:
    labels = {"code": "Code", "libelle": "Catégorie", "valeur": "Valeur"}
    links = []
    for key in ("code", "libelle", "valeur"):
        active = shown.tri == key
        ordre = "desc" if active and shown.ordre == "asc" else "asc"
        links.append(
            {
                "label": labels[key],
                "href": "?" + urlencode(shown.query(tri=key, ordre=ordre)) + "#ventilation",
                "aria": ("ascending" if shown.ordre == "asc" else "descending") if active else "",
            }
        )
    return links


def published_detail(request: HttpRequest, code: str) -> HttpResponse:
    pub, entry = _indicator(code)
    ctx: dict[str, Any] = {"pub": pub, "entry": entry, "code": code, "name": INDICATOR_NAMES[code]}
    if pub is None or entry is None:
        return render(request, "portal/published_detail.html", ctx)
    df = published.cells(pub, code)
    status = 200
    try:
        shown = published.shown(df, code, request.GET)
    except FilterError as exc:
        ctx["error"], status = str(exc), 400
        shown = published.shown(df, code, {})
    unit = entry["unite"]
    focus = shown.focus
    focus_label = (
        dict(published.categories(df, focus.dimension)).get(focus.code, focus.code)
        if focus
        else published.dimension_label(published.NATIONAL)
    )
    breakdown_title = f"{published.dimension_label(shown.par)}, {shown.periode}"
    ctx.update(
        shown=shown,
        focus_label=focus_label,
        breakdown_title=breakdown_title,
        series_rows=_table(shown.series, unit),
        breakdown_rows=_table(shown.breakdown, unit),
        line=charts.line_chart(_series(shown.series), unit),
        bars=charts.bar_chart(
            [
                (r["libelle"] or r["code"], r["valeur"])
                for r in shown.breakdown.iter_rows(named=True)
            ],
            unit,
            breakdown_title,
        ),
        region_map=charts.region_map(
            [(r["code"], r["libelle"], r["valeur"]) for r in shown.breakdown.iter_rows(named=True)],
            unit,
            breakdown_title,
        )
        if shown.par == "region"
        else None,
        sort_links=_sort_links(shown),
        periods=list(reversed(published.periods(df))),
        dimensions=[(d, published.dimension_label(d)) for d in published.dimensions(df)],
        territories=_options(df, published.TERRITORIES),
        sectors=_options(df, published.SECTORS),
        query=urlencode(shown.query()),
        formats=list(published.FORMATS),
    )
    return render(request, "portal/published_detail.html", ctx, status=status)


def _options(df: pl.DataFrame, dims: tuple[str, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Select groups (one per dimension present) of ``dimension:code`` values."""
    return [
        (
            published.dimension_label(dim),
            [(f"{dim}:{c}", f"{label} ({c})") for c, label in published.categories(df, dim)],
        )
        for dim in dims
        if dim in published.dimensions(df)
    ]


def published_download(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    pub, entry = _indicator(code)
    if pub is None or entry is None or fmt not in published.FORMATS:
        raise Http404("Fichier introuvable.")
    try:
        shown = published.shown(published.cells(pub, code), code, request.GET)
    except FilterError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    name = f"{code}_{pub.month}_v{pub.version}_{shown.par}_{shown.periode}.{fmt}"
    response = HttpResponse(published.export(shown.rows, fmt), content_type=published.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def orientation(params: Any) -> dict[str, Any]:
    """The « already published? » box of a new request: the released indicators broken down the
    way the requester describes (and holding a value for their territory or sector)."""
    pub = published.current()
    if pub is None:
        return {"orientation": None}
    dims = sorted(
        {d for e in pub.meta["indicateurs"] for d in e["dimensions"]} - {published.NATIONAL}
    )
    dim = params.get("besoin_par", "")
    code = params.get("besoin_code", "").strip()
    return {
        "orientation": {
            "dimensions": [(d, published.dimension_label(d)) for d in dims],
            "par": dim,
            "code": code,
            "asked": dim in dims,
            "found": published.suggestions(pub, dim, code) if dim in dims else [],
        }
    }
