"""A quick-look chart per indicator: the overall value (all margins) per period, hand-written SVG.

Masked periods are drawn as gaps, so the chart never shows more than the table.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import polars as pl

from .compute import TOTAL

WIDTH, HEIGHT, PAD = 640, 320, 48


def overall_series(table: pl.DataFrame, dims: list[str]) -> list[tuple[str, float | None]]:
    rows = table
    for dim in dims:
        rows = rows.filter(pl.col(dim) == TOTAL)
    return [(str(p), v) for p, v in rows.select("periode", "valeur").iter_rows()]


def svg(title: str, unit: str, series: list[tuple[str, float | None]]) -> str:
    values = [v for _, v in series if v is not None]
    top = max(values) if values else 1.0
    top = top if top > 0 else 1.0
    n = max(len(series), 1)
    step = (WIDTH - 2 * PAD) / n
    bars = []
    for i, (label, value) in enumerate(series):
        x = PAD + i * step
        if value is not None:
            h = (HEIGHT - 2 * PAD) * value / top
            bars.append(
                f'<rect x="{x + step * 0.1:.1f}" y="{HEIGHT - PAD - h:.1f}" '
                f'width="{step * 0.8:.1f}" height="{h:.1f}" fill="#000091">'
                f"<title>{escape(label)} : {value:,.2f} {escape(unit)}</title></rect>"
            )
        else:
            bars.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD - 4}" font-size="10" '
                'text-anchor="middle">s</text>'
            )
        bars.append(
            f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">'
        f'<text x="{PAD}" y="24" font-size="14">{escape(title)} ({escape(unit)})</text>'
        f'<text x="{PAD}" y="40" font-size="10">maximum : {top:,.2f} ; s = secret</text>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#333"/>' + "".join(bars) + "</svg>\n"
    )


def write_chart(path: Path, title: str, unit: str, table: pl.DataFrame, dims: list[str]) -> Path:
    target = path.with_suffix(".svg")
    target.write_text(svg(title, unit, overall_series(table, dims)), encoding="utf-8")
    return target
