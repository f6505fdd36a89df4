"""The HiGHS models of ``lp.Bounds`` give the same intervals as one ``scipy.optimize.linprog``
problem per bound (the former implementation, kept here as the reference)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from datadsn.indicators import lp, secondary
from datadsn.indicators.compute import TOTAL


def _reference(table: secondary.Table, masked: np.ndarray, cell: int) -> tuple[float, float]:
    """The equations linked to ``cell`` through masked cells, solved by linprog."""
    eqs: list[tuple[int, list[int]]] = []
    reached, grown = {cell}, True
    while grown:
        grown = False
        for parent, kids in table.equations:
            held = {m for m in (parent, *kids) if masked[m]}
            if held & reached and (parent, kids) not in eqs:
                eqs.append((parent, kids))
                reached |= held
                grown = True
    cols = sorted({m for p, k in eqs for m in (p, *k) if masked[m]} | {cell})
    if not eqs:
        return 0.0, float("inf")
    a = np.zeros((len(eqs), len(cols)))
    b = np.zeros(len(eqs))
    for r, (parent, kids) in enumerate(eqs):
        for m, coef in [(parent, -1.0)] + [(k, 1.0) for k in kids]:
            if masked[m]:
                a[r, cols.index(m)] += coef
            else:
                b[r] -= coef * table.values[m]
    c = np.zeros(len(cols))
    c[cols.index(cell)] = 1.0
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_eq=a, b_eq=b, bounds=[(0, None)] * len(cols), method="highs")
        if res.status == 3 and sign < 0:
            out.append(float("inf"))
        elif res.status != 0:
            out.append(float("nan"))
        else:
            out.append(sign * float(res.fun))
    return out[0], out[1]


def _cube(rng: np.random.Generator, sizes: tuple[int, ...]) -> secondary.Table:
    """A table with every margin of ``sizes`` categories, Poisson inner cells."""
    inner = rng.poisson(4, size=sizes).astype(float)
    keys, values = [], []
    for key in itertools.product(*[[*range(n), None] for n in sizes]):
        axes = tuple(slice(None) if k is None else k for k in key)
        keys.append(tuple(TOTAL if k is None else str(k) for k in key))
        values.append(float(inner[axes].sum()))
    return secondary.build_table(keys, values)


@pytest.mark.parametrize("seed", range(12))
def test_intervals_match_one_linprog_per_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = _cube(rng, ((3, 4), (2, 3, 3), (5,), (3, 2, 2, 2))[seed % 4])
    masked = rng.random(len(table.keys)) < (0.15, 0.35, 0.6)[seed % 3]
    if seed % 5 == 4:  # published cells contradicting their margins: no feasible point
        table.values[int(np.flatnonzero(~masked)[0])] += 7
    solved = secondary.bounds(table, masked)
    for cell in np.flatnonzero(masked):
        got = solved.interval(int(cell))
        want = _reference(table, masked, int(cell))
        np.testing.assert_allclose(got, want, atol=1e-7, equal_nan=True)


def test_a_cell_alone_in_its_margins_is_pinned_and_one_outside_any_is_free() -> None:
    # 10 = 7 + x: x is exactly 3; cell 3 appears in no equation.
    solved = lp.Bounds(np.array([10.0, 7.0, 3.0, 5.0]), [(0, [1, 2])], np.array([0, 0, 1, 1], bool))
    assert solved.interval(2) == (3.0, 3.0)
    assert solved.interval(3) == (0.0, float("inf"))


def test_an_unbounded_and_an_inconsistent_system() -> None:
    # a - b = 0 with both masked (a margin of one masked child, itself masked): a is unbounded.
    free = lp.Bounds(np.array([4.0, 4.0]), [(0, [1])], np.array([True, True]))
    assert free.interval(1) == (0.0, float("inf"))
    # 10 = 3 + 12 + x: no x >= 0 (the published cells contradict their margin).
    bad = lp.Bounds(
        np.array([10.0, 3.0, 12.0, 1.0]), [(0, [1, 2, 3])], np.array([0, 0, 0, 1], bool)
    )
    lo, hi = bad.interval(3)
    assert np.isnan(lo) and np.isnan(hi)
