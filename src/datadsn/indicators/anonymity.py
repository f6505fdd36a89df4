"""k-anonymity and l-diversity of microdata (own implementation; ``pycanon`` would pull pandas).

An equivalence class is a combination of quasi-identifier values. k is the smallest number of
distinct persons in a class; l the smallest number of distinct sensitive values in a class.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Measure:
    k: int
    l: int  # noqa: E741
    classes: int
    below_k: int
    below_l: int
    example: dict[str, str] | None


def measure(
    data: pl.DataFrame, quasi: list[str], person: str, sensitive: str, k_min: int, l_min: int
) -> Measure:
    if data.is_empty():
        return Measure(0, 0, 0, 0, 0, None)
    groups = data.group_by(quasi).agg(
        pl.col(person).n_unique().alias("_k"), pl.col(sensitive).n_unique().alias("_l")
    )
    worst = groups.sort(["_k", "_l"]).row(0, named=True)
    return Measure(
        k=int(groups["_k"].min()),  # type: ignore[arg-type]
        l=int(groups["_l"].min()),  # type: ignore[arg-type]
        classes=groups.height,
        below_k=groups.filter(pl.col("_k") < k_min).height,
        below_l=groups.filter(pl.col("_l") < l_min).height,
        example={q: str(worst[q]) for q in quasi},
    )
