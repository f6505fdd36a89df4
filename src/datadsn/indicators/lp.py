"""The attacker's linear programme: feasible [min, max] of masked cells under additivity equations.

An attacker who knows the published cells of a table solves its equations (a margin equals the
sum of its children) with non-negative unknowns, the masked cells. Only the equations linked to a
cell through masked cells bound it: the masked cells split into independent components (union of
the masked cells of each equation). Each component is one HiGHS model (``highspy``), built once
with its constraints as a sparse column-wise matrix; the bounds of each of its cells only change
the objective (min, then max of that cell) and re-solve from the previous basis. Building one
``scipy.optimize.linprog`` problem per bound cost four times the solve itself in input checks and
matrix conversions (12,517 calls for one monthly release).
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np

_STATUS = highspy.HighsModelStatus


class Bounds:
    """Min and max of each masked cell given the published ``values`` and the ``equations``
    ``(margin, children)``; models built lazily, one per component of masked cells."""

    def __init__(
        self,
        values: np.ndarray,
        equations: Sequence[tuple[int, Sequence[int]]],
        masked: np.ndarray,
    ) -> None:
        self.values = values
        self.equations = equations
        self.masked = masked
        root = list(range(len(values)))

        def find(i: int) -> int:
            while root[i] != i:
                root[i] = root[root[i]]
                i = root[i]
            return i

        for parent, kids in equations:
            cells = [m for m in (parent, *kids) if masked[m]]
            for m in cells[1:]:
                a, b = find(cells[0]), find(m)
                if a != b:
                    root[max(a, b)] = min(a, b)
        self._find = find
        self._by_root: dict[int, list[int]] = {}
        for e, (parent, kids) in enumerate(equations):
            first = next((m for m in (parent, *kids) if masked[m]), None)
            if first is not None:
                self._by_root.setdefault(find(first), []).append(e)
        self._models: dict[int, tuple[highspy.Highs, dict[int, int]] | None] = {}
        self._costed: dict[int, int] = {}

    def _model(self, cell: int) -> tuple[highspy.Highs, dict[int, int]] | None:
        key = self._find(cell)
        if key not in self._models:
            self._models[key] = self._build(self._by_root.get(key, []))
        return self._models[key]

    def _build(self, eqs: list[int]) -> tuple[highspy.Highs, dict[int, int]] | None:
        if not eqs:
            return None
        masked, values = self.masked, self.values
        cols = sorted({m for e in eqs for m in self._members(e) if masked[m]})
        col = {c: j for j, c in enumerate(cols)}
        entries: dict[int, dict[int, float]] = {j: {} for j in range(len(cols))}
        rhs = np.zeros(len(eqs))
        for r, e in enumerate(eqs):
            parent, kids = self.equations[e]
            for m, coef in [(parent, -1.0)] + [(k, 1.0) for k in kids]:
                if masked[m]:
                    j = col[m]
                    entries[j][r] = entries[j].get(r, 0.0) + coef
                else:
                    rhs[r] -= coef * values[m]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(eqs)
        lp.col_cost_ = np.zeros(len(cols))
        lp.col_lower_ = np.zeros(len(cols))
        lp.col_upper_ = np.full(len(cols), highspy.kHighsInf)
        lp.row_lower_ = rhs
        lp.row_upper_ = rhs
        start, index, value = [0], [], []
        for j in range(len(cols)):
            for r, v in sorted(entries[j].items()):
                if v != 0.0:
                    index.append(r)
                    value.append(v)
            start.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(value, dtype=float)
        solver = highspy.Highs()
        solver.setOptionValue("output_flag", False)
        solver.passModel(lp)
        return solver, col

    def _members(self, e: int) -> tuple[int, ...]:
        parent, kids = self.equations[e]
        return (parent, *kids)

    def bound(self, cell: int, upper: bool) -> float:
        """Max (``upper``) or min of ``cell``; inf when unbounded, NaN when the published cells
        contradict the equations (no feasible point)."""
        found = self._model(cell)
        if found is None:  # no equation holds it: anything non-negative
            return float("inf") if upper else 0.0
        solver, col = found
        key = self._find(cell)
        previous = self._costed.get(key)
        if previous != col[cell]:
            if previous is not None:
                solver.changeColCost(previous, 0.0)
            solver.changeColCost(col[cell], 1.0)
            self._costed[key] = col[cell]
        sense = highspy.ObjSense.kMaximize if upper else highspy.ObjSense.kMinimize
        solver.changeObjectiveSense(sense)
        solver.run()
        status = solver.getModelStatus()
        if status == _STATUS.kUnboundedOrInfeasible:  # presolve could not tell: ask simplex
            solver.setOptionValue("presolve", "off")
            solver.run()
            status = solver.getModelStatus()
            solver.setOptionValue("presolve", "choose")
        if status == _STATUS.kUnbounded and upper:
            return float("inf")
        if status != _STATUS.kOptimal:
            return float("nan")
        return float(solver.getInfo().objective_function_value)

    def interval(self, cell: int) -> tuple[float, float]:
        return self.bound(cell, upper=False), self.bound(cell, upper=True)
