"""The balanced assignment LP kept alive across centre rounds, re-solved warm.

Why: :func:`optimizer.repair.lp_balanced` alternates an LP assignment (sizes
and balance bands as rows, the squared distance to each centre as the cost)
with moving the centres to the new clusters' means. Between rounds only the
costs change, plus a few arcs to centres that came near; the previous
optimal basis stays primal feasible, so HiGHS's simplex restarts from it
instead of from scratch. Measured on the sparse LP of the benchmark's
3 300-unit F table (seed 0, ~120 000 arcs): rounds took 3.1 / 2.0 / 1.2 /
0.9 / 1.0 / 0.8 s warm against ~3.2 s each cold through
``scipy.optimize.linprog`` (8 443 simplex iterations cold, 900–2 100 warm),
with the same LP optima. Rows are ranged (``lo ≤ row ≤ hi``), not the pair of
``≤`` rows linprog builds.

Work is counted in simplex iterations, columns and rows (deterministic for the
same model and sequence of changes), so how many rounds fit a work allowance
does not depend on the machine (:mod:`optimizer.budget`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np

from optimizer.highs import new_highs, run_cancellable

#: LP work units charged (at :data:`optimizer.budget.LP_WORK_PER_S`) per simplex
#: iteration and column, per column and row (the re-solve's set-up: refactoring
#: the basis, pricing every column once), per column, and per round (the Python
#: around it: the costs, the rounding). Least squares over warm rounds of 56–700
#: units × 4–50 clusters and the sparse LP of the 3 300-unit F table (seed 0):
#: 3.9e-9 s, 7.3e-10 s, ~0.5e-6 s and 0.53 ms; charged ~1.5 × that, so a round
#: is charged 1.4–1.8 × its wall time (1.7 × for the big LP's cold first round).
#: One constant per column, as first tried, charged the small LPs of the
#: regional restarts 3–4 × their time.
LP_ITERATION_WORK = 0.3
LP_CELL_WORK = 0.077
LP_COLUMN_WORK = 52.0
LP_ROUND_WORK = 55_000
#: From this many arcs HiGHS runs in its own thread so that Ctrl-C stops it at
#: once (a cold round of 120 000 arcs takes ~3 s); below, the thread's start
#: and polling would cost more than the solve (310 units × 6 clusters: 7.5 ms a
#: round that way, 4.0 ms called directly).
CANCELLABLE_ARCS = 20_000


@dataclass(frozen=True)
class LPSolution:
    """One round: the arcs (unit, cluster) and their shares (``x`` None when not
    solved to optimality), whether the time limit stopped it, and what it cost."""

    rows: np.ndarray
    cols: np.ndarray
    x: np.ndarray | None
    timed_out: bool
    iterations: int
    work: float


class BandAssignmentLP:
    """``min Σ cost·x`` over arcs (unit, cluster): each unit's shares sum to 1, each
    cluster's size lies in ``[min_size, max_size]`` and its total of each balanced
    column ``c`` in ``[lo[c], hi[c]]`` (columns with neither end finite are left out).

    Arcs are added with :meth:`add_arcs` and never removed (an arc left from an
    earlier round only widens the LP); :meth:`solve` takes the round's cost
    matrix and returns the optimum, warm from the last one.
    """

    def __init__(self, n: int, k: int, V: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 min_size: int, max_size: int) -> None:
        self.n, self.k = n, k
        self.columns = [c for c in range(V.shape[1]) if np.isfinite(lo[c]) or np.isfinite(hi[c])]
        self.V = np.asarray(V, dtype=np.float64)
        inf = highspy.kHighsInf
        row_lo = [np.ones(n), np.full(k, float(min_size))]
        row_hi = [np.ones(n), np.full(k, float(max_size))]
        for c in self.columns:
            row_lo.append(np.full(k, lo[c] if np.isfinite(lo[c]) else -inf))
            row_hi.append(np.full(k, hi[c] if np.isfinite(hi[c]) else inf))
        self.h = new_highs()
        self.h.silent()
        lower, upper = np.concatenate(row_lo), np.concatenate(row_hi)
        self.n_rows = len(lower)
        empty = np.zeros(0, dtype=np.int32)
        self.h.addRows(len(lower), lower, upper, 0, empty, empty, np.zeros(0))
        self.codes = np.zeros(0, dtype=np.int64)  # arc j is unit codes[j] // k, cluster codes[j] % k

    @property
    def n_arcs(self) -> int:
        """Columns of the model so far."""
        return len(self.codes)

    def add_arcs(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """Add the arcs (``rows[j]``, ``cols[j]``) not in the model yet."""
        codes = np.setdiff1d(np.asarray(rows, dtype=np.int64) * self.k + np.asarray(cols), self.codes)
        if len(codes) == 0:
            return
        r, c = codes // self.k, codes % self.k
        per = 2 + len(self.columns)
        index = np.empty((len(codes), per), dtype=np.int32)
        value = np.ones((len(codes), per))
        index[:, 0], index[:, 1] = r, self.n + c
        for slot, col in enumerate(self.columns):
            index[:, 2 + slot] = self.n + self.k * (1 + slot) + c
            value[:, 2 + slot] = self.V[r, col]
        m = len(codes)
        self.h.addCols(m, np.zeros(m), np.zeros(m), np.ones(m), index.size,
                       np.arange(m, dtype=np.int32) * per, index.ravel(), value.ravel())
        self.codes = np.concatenate([self.codes, codes])

    def solve(self, distances: np.ndarray, *, time_limit: float = math.inf) -> LPSolution:
        """The optimum for costs ``distances[unit, cluster]`` on the model's arcs, warm
        from the last; ``x`` is None when the LP is infeasible or HiGHS's (safety)
        ``time_limit`` stopped it. Ctrl-C cancels HiGHS at once from
        :data:`CANCELLABLE_ARCS` arcs (a smaller solve ends first) and is raised here.
        """
        rows, cols = self.codes // self.k, self.codes % self.k
        m = len(self.codes)
        self.h.changeColsCost(m, np.arange(m, dtype=np.int32), distances[rows, cols])
        # HiGHS's time limit counts the instance's whole run time, every solve so far
        # included (a 0.5-s limit stopped the second 0.3-s round of a reused model)
        limit = (self.h.getRunTime() + max(time_limit, 0.01) if math.isfinite(time_limit)
                 else highspy.kHighsInf)
        self.h.setOptionValue("time_limit", float(limit))
        if m < CANCELLABLE_ARCS:
            self.h.run()  # a few ms: Ctrl-C arrives when it returns
        elif run_cancellable(self.h, None):
            raise KeyboardInterrupt
        iterations = int(self.h.getInfo().simplex_iteration_count)
        work = (LP_ITERATION_WORK * iterations * m + LP_CELL_WORK * m * self.n_rows
                + LP_COLUMN_WORK * m + LP_ROUND_WORK)
        status = self.h.getModelStatus()
        x = np.asarray(self.h.getSolution().col_value) if status == highspy.HighsModelStatus.kOptimal else None
        return LPSolution(rows, cols, x, status == highspy.HighsModelStatus.kTimeLimit, iterations, work)
