"""Server-drawn SVG charts of released cells: geometry here, markup in ``_chart_*.html``.

No JavaScript: each chart is an image with a text alternative, the table of its values is printed
beside it, and masked cells are never drawn (a gap in a line, the word « secret » for a bar).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

NBSP = "\u202f"  # narrow no-break space, the French thousands separator


def number(value: float | None, unit: str = "") -> str:
    """A value as French readers write it (« 1 234 postes », « 12,5 % »), or « secret »."""
    if value is None:
        return "secret"
    digits = 0 if abs(value) >= 100 or float(value).is_integer() else 1
    text = f"{value:,.{digits}f}".replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}{unit}" if unit else text


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return float(next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))


def _scale(values: list[float], zero: bool) -> tuple[float, float, list[float]]:
    """Axis bounds and round ticks covering ``values`` (from zero when ``zero``)."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if zero:
        lo = min(lo, 0.0)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    step = _nice_step(hi - lo, 4)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [lo + i * step for i in range(round((hi - lo) / step) + 1)]
    return lo, hi, ticks


@dataclass
class Mark:
    x: float
    y: float
    label: str


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    segments: list[str] = field(default_factory=list)
    points: list[Mark] = field(default_factory=list)
    yticks: list[Mark] = field(default_factory=list)
    xticks: list[Mark] = field(default_factory=list)
    desc: str = ""


def summary(series: list[tuple[str, float | None]], unit: str) -> str:
    """The text alternative of a series: span, extremes, last value, masked count."""
    shown = [(p, v) for p, v in series if v is not None]
    masked = len(series) - len(shown)
    if not series:
        return "Pas de série publiée."
    if not shown:
        return f"Aucune valeur publiée : les {masked} valeurs sont couvertes par le secret."
    low = min(shown, key=lambda pv: pv[1])
    high = max(shown, key=lambda pv: pv[1])
    text = (
        f"De {series[0][0]} à {series[-1][0]} : minimum {number(low[1], unit)} en {low[0]}, "
        f"maximum {number(high[1], unit)} en {high[0]}, dernière valeur publiée "
        f"{number(shown[-1][1], unit)} en {shown[-1][0]}."
    )
    if masked:
        text += f" {masked} valeur(s) couverte(s) par le secret statistique."
    return text


def line_chart(series: list[tuple[str, float | None]], unit: str) -> LineChart:
    chart = LineChart(width=720, height=260, left=90, right=680, top=16, bottom=220)
    values = [v for _, v in series if v is not None]
    lo, hi, ticks = _scale(values, zero=False)

    def y(v: float) -> float:
        return round(chart.bottom - (v - lo) / (hi - lo) * (chart.bottom - chart.top), 1)

    step = (chart.right - chart.left) / max(len(series) - 1, 1)
    chart.yticks = [Mark(chart.left, y(t), number(t)) for t in ticks]
    every = max(1, math.ceil(len(series) / 8))
    run: list[str] = []
    for i, (periode, value) in enumerate(series):
        x = round(chart.left + i * step, 1)
        if (len(series) - 1 - i) % every == 0:  # counted back from the last month, always labelled
            chart.xticks.append(Mark(x, chart.bottom, periode))
        if value is None:
            if run:
                chart.segments.append(" ".join(run))
            run = []
            continue
        run.append(f"{x},{y(value)}")
        chart.points.append(Mark(x, y(value), f"{periode} : {number(value, unit)}"))
    if run:
        chart.segments.append(" ".join(run))
    chart.desc = summary(series, unit)
    return chart


@dataclass
class Bar:
    y: float
    width: float
    end: float  # where the value is written, past the bar
    label: str
    short: str
    value: str
    masked: bool


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    bars: list[Bar]
    desc: str


BAR, GAP, LABEL_CHARS = 22, 8, 34


def bar_chart(rows: list[tuple[str, float | None]], unit: str, title: str) -> BarChart:
    """Horizontal bars from zero, one per category, in the order of ``rows``."""
    left, span = 260, 360
    values = [v for _, v in rows if v is not None]
    _, hi, _ = _scale([*values, 0.0], zero=True)
    bars = []
    for i, (label, value) in enumerate(rows):
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        width = 0.0 if value is None or hi <= 0 else max(value, 0) / hi * span
        bars.append(
            Bar(
                i * (BAR + GAP),
                round(width, 1),
                round(left + width + 6, 1),
                label,
                short,
                number(value, unit),
                value is None,
            )
        )
    masked = sum(b.masked for b in bars)
    desc = f"{title} : {len(bars)} catégories"
    if values:
        top = max((r for r in rows if r[1] is not None), key=lambda r: r[1] or 0)
        desc += f", la plus élevée est « {top[0]} » ({number(top[1], unit)})"
    if masked:
        desc += f", {masked} couverte(s) par le secret statistique"
    return BarChart(left + span + 110, max(len(bars), 1) * (BAR + GAP), left, bars, desc + ".")


@dataclass
class Sparkline:
    points: str
    desc: str
    width: int = 120
    height: int = 32


def sparkline(series: list[tuple[str, float | None]], unit: str) -> Sparkline:
    width, height, pad = 120, 32, 3
    values = [v for _, v in series if v is not None]
    if not values:
        return Sparkline("", summary(series, unit))
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1
    step = (width - 2 * pad) / max(len(series) - 1, 1)
    pts = [
        f"{round(pad + i * step, 1)},{round(height - pad - (v - lo) / (hi - lo) * (height - 2 * pad), 1)}"
        for i, (_, v) in enumerate(series)
        if v is not None
    ]
    return Sparkline(" ".join(pts), summary(series, unit))


# A tile map of the régions: one square per région, placed as on a map (no geometry needed).
REGION_TILES = {
    "32": (2, 0, "Hauts-de-France"), "53": (0, 1, "Bretagne"), "28": (1, 1, "Normandie"),
    "11": (2, 1, "Île-de-France"), "44": (3, 1, "Grand Est"), "52": (1, 2, "Pays de la Loire"),
    "24": (2, 2, "Centre-Val de Loire"), "27": (3, 2, "Bourgogne-Fr.-C."),
    "75": (1, 3, "Nouvelle-Aquitaine"), "84": (2, 3, "Auvergne-Rh.-Alpes"),
    "76": (1, 4, "Occitanie"), "93": (2, 4, "Prov.-Alpes-C. d'Azur"), "94": (3, 4, "Corse"),
    "01": (0, 5, "Guadeloupe"), "02": (1, 5, "Martinique"), "03": (2, 5, "Guyane"),
    "04": (3, 5, "La Réunion"), "06": (4, 5, "Mayotte"),
}  # fmt: skip
# DSFR blue-france scale, light to dark, with a text colour that keeps the contrast.
SHADES = (
    ("#ECECFE", "#161616"),
    ("#CACAFB", "#161616"),
    ("#8585F6", "#161616"),
    ("#000091", "#FFFFFF"),
)
TILE_W, TILE_H = 150, 64


@dataclass
class Tile:
    x: int
    y: int
    name: str
    label: str
    value: str
    fill: str
    ink: str
    masked: bool


@dataclass
class TileMap:
    width: int
    height: int
    tiles: list[Tile]
    legend: list[Tile]
    desc: str
    tile_width: int = TILE_W
    tile_height: int = TILE_H


def region_map(rows: list[tuple[str, str, float | None]], unit: str, title: str) -> TileMap:
    """Régions as tiles shaded by quartile of their published value; masked ones « secret »."""
    values = sorted(v for code, _, v in rows if v is not None and code in REGION_TILES)
    bounds = (
        [values[min(len(values) - 1, len(values) * k // 4)] for k in (1, 2, 3)] if values else []
    )

    def shade(v: float) -> tuple[str, str]:
        return SHADES[sum(v >= b for b in bounds)]

    released = {code: (name, value) for code, name, value in rows}
    tiles = []
    for code, (col, row, short) in REGION_TILES.items():
        x, y = col * (TILE_W + 6), row * (TILE_H + 6) + (12 if row == 5 else 0)
        if code not in released:  # no cell in the release (no establishment there)
            tiles.append(Tile(x, y, short, short, "—", "#F6F6F6", "#3A3A3A", False))
            continue
        name, value = released[code]
        fill, ink = ("#FFFFFF", "#3A3A3A") if value is None else shade(value)
        tiles.append(Tile(x, y, name, short, number(value, unit), fill, ink, value is None))
    top = 6 * (TILE_H + 6) + 24
    limits = [values[0], *bounds, values[-1]] if values else []
    legend = [
        Tile(k * (TILE_W + 6), top, "", f"{number(lo)} à {number(hi)}", "", *SHADES[k], False)
        for k, (lo, hi) in enumerate(itertools.pairwise(limits))
    ]
    masked = sum(t.masked for t in tiles)
    desc = (
        f"Carte en tuiles des régions, {title} : teinte plus foncée pour une valeur plus élevée "
        "(quartiles), tiret pour une région sans valeur dans la publication"
    )
    if masked:
        desc += f", {masked} région(s) couverte(s) par le secret"
    return TileMap(5 * (TILE_W + 6), top + 30, tiles, legend, desc + ".")
