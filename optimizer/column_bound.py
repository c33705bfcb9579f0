"""A lower bound from one similarity column under the size and balance-band rules (large tables).

Why: with a population band (scenario F) the large-table bound of
:mod:`optimizer.bound` stays far below the plans (gap 0.49 at 700 units,
0.75 at 3 300), because it prices a unit's cost to a far medoid by its q-th
neighbour's, while a balanced cluster *must* take far-away big units. Yet
most of F's dispersion sits in one column: the balanced quantity itself as a
similarity criterion (population: 84 % of the 3 300-unit plan's objective).

Decomposition. The objective is a sum over units of rounded squared
distances to their medoid, and a squared distance is a sum over feature
columns, so for one column ``z`` and the rest ``r``::

    objective ≥ COST_SCALE · Σ_clusters min_t Σ_i∈C (z_i − t)² + rest − n

where ``rest`` bounds the objective on ``r`` alone (its own rounded costs;
:func:`optimizer.bound.lagrangian_bound`) — rounding costs at most ½ per unit
and part, and a medoid is one choice of ``t`` and of the rest's medoid. The
right side's minimum over every plan meeting the sizes and the band is a 1D
problem, bounded here by a Lagrangian: "each unit in one cluster" is dualised
(multipliers ``u``), so the ``k`` clusters become independent copies of one
subproblem — the cheapest set of ``lo..hi`` units, band kept, around a centre
``t``. Its value is bounded below by splitting the line into cells (``t`` in
a cell costs at least the distance to the cell), dualising the band with a
multiplier ``w`` per cell (any ``w`` bounds it below; the best of a grid is
kept) and taking the cheapest ``m`` reduced costs. Every ``(u, w)`` gives a
valid bound, so the best value seen is kept; ``u`` follows Polyak subgradient
steps aimed at the incumbent's own value for the column.

Multipliers start as one per cell (units with alike ``z`` share one: few
unknowns, so the first steps move every unit at once), and become one per
unit when the step has shrunk (:data:`BINNED_UNTIL`). Measured (benchmark
tables, seed 0, F, 60 s solves; bound share as in :mod:`optimizer.lns`):
700 units 368 for the population column (plan: 502), 3 300 units 1 631
(plan: 2 324), 10 000 units 2 778; with the other columns' Lagrangian added
the reported F gaps fall from 0.49 / 0.75 / 0.92 to 0.36 / 0.42 / 0.66.
Per-unit multipliers from the start reached 342 / 1 434 / 0 in the same work.
With the phases' unspent nominal time added to the bound's share and the
cells cut to the work (:func:`cells_for`): 3 300 units 1 697, 10 000 units
4 573, gaps 0.40 / 0.44 (3 seeds' medians), 50 000 units (600 s) 0.42 (was
0.69). Run to convergence the bound stops near 1 787 at 3 300 units (the
identical-clusters relaxation itself, whatever the cells), against ~2 210
for the best population-only plan found (annealing), so a gap remains.

Determinism: iterations follow ``max_work`` (cells × multipliers × units per
evaluation); the deadline only stops early.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizer.interrupts import BoundInterrupted
from optimizer.subgradient import StepFactor

#: Cells the centre's line is cut into (quantiles of the column): at most / at least.
CELLS = 128
MIN_CELLS = 48
#: Cells are cut so the work buys about this many evaluations (an evaluation
#: costs cells × ~4 multipliers × units). Measured (seed 0 F plans, the work
#: of a 60 s solve): 10 000 units 2 926 with 128 cells (148 evaluations),
#: 4 447 / 4 573 / 4 367 with 32 / 48 / 64; 3 300 units 1 668–1 741 for
#: any of 56–128 cells (no trend). Converged, fewer cells are a little weaker
#: (3 300: 1 787 with 128, 1 781 with 64; 700: 368.6 / 364.5), so tables whose
#: work buys enough evaluations (700 units: 3 600) keep 128.
EVALUATIONS_WANTED = 1000
#: Band multipliers: 0 and ± scale · 2^(j/2) for j in this range.
W_EXPONENTS = range(-16, 9)
#: Evaluations between full sweeps of the multiplier grid (in between each
#: cell tries its last best multiplier and the two next to it).
FULL_SWEEP_EVERY = 50
#: Polyak step factor at the start, and evaluations without a better bound before halving it.
STEP_START = 1.0
PATIENCE = 40
#: The per-cell multipliers give way to per-unit ones when the step factor falls below this.
BINNED_UNTIL = 1 / 64
#: Largest cells × multipliers × units array built at once (~50 MB of float64).
BLOCK_ENTRIES = 6_000_000
#: Relative safety margin on the float result.
FLOAT_MARGIN = 1e-9


@dataclass(frozen=True)
class ColumnBound:
    """The bound (the column's units, before COST_SCALE), evaluations run, work spent, clock stop.

    Also what :func:`optimizer.pattern_bound.pattern_bound` returns, whose
    ``ran`` is False when it did not bound at all (outside its scope, too little
    work, or HiGHS not solving its first master): the caller then bounds otherwise.
    """

    value: float
    iterations: int
    work: int
    clock_stopped: bool = False
    ran: bool = True


def incumbent_value(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The incumbent's within-cluster sum of squares on ``z`` and each unit's share of it."""
    _, lab = np.unique(np.asarray(labels), return_inverse=True)
    sums = np.bincount(lab, weights=z)
    counts = np.bincount(lab)
    own = (z - sums[lab] / counts[lab]) ** 2
    return float(own.sum()), own


def cells_for(max_work: int, n: int) -> int:
    """Cells for ``n`` units so ``max_work`` buys about :data:`EVALUATIONS_WANTED` evaluations."""
    fit = max_work // max(4 * n * EVALUATIONS_WANTED, 1)
    return int(min(max(fit, MIN_CELLS), CELLS))


def band_edge(w: np.ndarray, band_lo: float, band_hi: float) -> np.ndarray:
    """``w`` times the band end its sign prices: ``Σ(c − u + w·p) − w·edge ≤ Σ(c − u)`` in the band.

    For ``w > 0`` that is the upper end (``w·(Σp − hi) ≤ 0``), for ``w < 0``
    the lower one (``w·(Σp − lo) ≤ 0``).
    """
    return np.where(w > 0, w * band_hi, w * band_lo)


def _cheapest(cost, u, w, q, edge, lo: int, hi: int):
    """Per cell: the best (over its multipliers ``w``) bound of its cheapest set; which w; set size − lo.

    Cells are taken in blocks so the ``cells × multipliers × units`` array
    stays under :data:`BLOCK_ENTRIES` (50 000 units, full grid: 2.6 GB at once).
    """
    g_cells, n = cost.shape
    per_cell = np.empty(g_cells)
    best_j = np.empty(g_cells, dtype=np.int64)
    best_m = np.empty(g_cells, dtype=np.int64)
    step = max(BLOCK_ENTRIES // (w.shape[1] * n), 1)
    for s in range(0, g_cells, step):
        sl = slice(s, s + step)
        reduced = cost[sl, None, :] - u[None, None, :] + w[sl, :, None] * q[None, None, :]
        smallest = np.partition(reduced, hi - 1, axis=2)[:, :, :hi]
        smallest.sort(axis=2)
        prefix = np.cumsum(smallest, axis=2)[:, :, lo - 1:]
        m = np.argmin(prefix, axis=2)
        value = np.take_along_axis(prefix, m[:, :, None], axis=2)[:, :, 0] - edge[sl]
        j = np.argmax(value, axis=1)
        rows = np.arange(len(j))
        per_cell[sl], best_j[sl], best_m[sl] = value[rows, j], j, m[rows, j]
    return per_cell, best_j, best_m


def column_band_bound(
    z: np.ndarray, p: np.ndarray, k: int, lo: int, hi: int, band_lo: float, band_hi: float,
    incumbent_labels: np.ndarray, *, max_work: int, deadline: float | None = None,
    cells: int | None = None,
) -> ColumnBound:
    """Lower bound of Σ_clusters min_t Σ (z_i − t)² over plans of ``k`` clusters of ``lo..hi``
    units whose ``p`` totals lie in ``[band_lo, band_hi]``.

    ``incumbent_labels`` must be such a plan (its value is the step target).
    Returns 0 when the inputs leave nothing to bound. ``cells`` defaults to
    :func:`cells_for` the work.
    """
    z = np.asarray(z, dtype=np.float64)
    n = len(z)
    cells = cells if cells is not None else cells_for(max_work, n)
    if n == 0 or k <= 0 or lo > hi or hi <= 0 or not np.all(np.isfinite(z)):
        return ColumnBound(0.0, 0, 0)
    mean_total = abs(float(np.sum(p))) / k or 1.0
    q = np.nan_to_num(np.asarray(p, dtype=np.float64)) / mean_total
    blo, bhi = band_lo / mean_total, band_hi / mean_total
    hi, lo = min(hi, n), max(lo, 1)
    if lo > hi:
        return ColumnBound(0.0, 0, 0)
    edges = np.unique(np.quantile(z, np.linspace(0.0, 1.0, min(cells, n) + 1)))
    if len(edges) < 2:
        return ColumnBound(0.0, 0, 0)  # a constant column: every plan costs 0 on it
    a, b = edges[:-1], edges[1:]
    cost = np.maximum(np.maximum(a[:, None] - z[None, :], z[None, :] - b[:, None]), 0.0) ** 2
    target, own = incumbent_value(z, incumbent_labels)
    # first one multiplier per cell (units with alike z alike: few unknowns, fast
    # progress), then one per unit from there; every u gives a valid bound
    bin_of = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, len(a) - 1)
    per_bin = np.maximum(np.bincount(bin_of, minlength=len(a)), 1)
    shared = np.bincount(bin_of, weights=own, minlength=len(a)) / per_bin
    u = shared[bin_of]
    binned = True
    scale = max(target / k, 1e-12)
    grid = np.array([0.0] + [s * scale * 2.0 ** (j / 2) for j in W_EXPONENTS for s in (1.0, -1.0)])
    edge = band_edge(grid, blo, bhi)
    g_cells = len(a)
    last = np.zeros(g_cells, dtype=np.int64)  # each cell's best multiplier so far
    best, step, it, spent, stopped = -np.inf, StepFactor(STEP_START, PATIENCE), 0, 0, False
    try:  # Ctrl-C: the best value seen is a valid bound (column units)
        while spent < max_work:
            if deadline is not None and time.monotonic() >= deadline:
                stopped = True
                break
            if it % FULL_SWEEP_EVERY == 0:
                tried = np.broadcast_to(np.arange(len(grid)), (g_cells, len(grid)))
            else:
                tried = np.clip(last[:, None] + np.array([-2, 0, 2]), 0, len(grid) - 1)
            per_cell, j, m = _cheapest(cost, u, grid[tried], q, edge[tried], lo, hi)
            last = tried[np.arange(g_cells), j]
            cell = int(np.argmin(per_cell))
            bound = float(u.sum() + k * per_cell[cell])
            it += 1
            spent += int(tried.size) * n
            step.update(bound > best)
            best = max(best, bound)
            if binned and step.theta < BINNED_UNTIL:
                binned, step.theta = False, STEP_START * BINNED_UNTIL * 4
            if best >= target or step.theta < 1e-6:
                break
            # subgradient: the k relaxed clusters are copies of the cheapest cell's set
            size = int(m[cell]) + lo
            row = cost[cell] - u + grid[last[cell]] * q
            chosen = np.argpartition(row, size - 1)[:size]
            grad = np.ones(n)
            grad[chosen] -= k
            if binned:  # the subgradient in the cells' multipliers
                grad = np.bincount(bin_of, weights=grad, minlength=len(a))
                shared = shared + step.theta * max(target - bound, 1e-12) / float(grad @ grad) * grad
                u = shared[bin_of]
            else:
                u = u + step.theta * max(target - bound, 1e-12) / float(grad @ grad) * grad
    except KeyboardInterrupt:
        raise BoundInterrupted(column_value(best, target)) from None
    return ColumnBound(column_value(best, target), it, spent, stopped)


def column_value(best: float, ceiling: float) -> float:
    """The bound reported for a column: the best value seen, lowered by the float margin,
    never below 0 nor above ``ceiling`` (the incumbent's own cost on the column)."""
    value = max(best, 0.0) * (1.0 - FLOAT_MARGIN) if np.isfinite(best) else 0.0
    return min(value, ceiling)


#: Share of the decomposed bound's time that goes to the other columns'
#: Lagrangian; the balanced column gets the rest (its part is most of F's
#: objective: 84 % at 3 300 units).
REST_SHARE = 0.25
#: Nominal work per second of :func:`column_band_bound` (cells × multipliers × units);
#: measured 1.8e8 at 700 units and 2.1–2.8e8 at 3 300 on the 2-core machine.
COLUMN_BOUND_WORK_PER_S = 1.5e8
#: :func:`optimizer.pattern_bound.pattern_bound`'s work units (DP entries) per
#: unit of this module's, so both get the same seconds: its rate measured
#: 8.7e8 a second (3 300 units, 550 clusters of 5–7), ~5.8 × this one's.
PATTERN_WORK_PER_COLUMN_WORK = 5


def balanced_feature_columns(problem, data) -> list[tuple[int, object]]:
    """``(feature column index, balance column)`` for each band whose column is a one-column criterion.

    That feature column's part of the objective is what
    :func:`column_band_bound` bounds. Distinct feature columns only: their
    parts add up.
    """
    groups = getattr(problem.features, "groups", {}) or {}
    out, used = [], set()
    for col in data.balance:
        idx = groups.get(col.name, ())
        if len(idx) == 1 and idx[0] not in used:
            used.add(idx[0])
            out.append((int(idx[0]), col))
    return out


def decomposed_bound(x: np.ndarray, k: int, lo: int, hi: int, labels, columns, rest_bound: int,
                     *, max_work: int, deadline: float | None = None,
                     linear_may_start: Callable[[], bool] | None = None,
                     ) -> tuple[int, dict[str, float]]:
    """Objective lower bound (integer cost units): the balanced columns' bounds plus the rest's.

    ``x`` is the feature matrix in unit order (as ``labels``); ``columns``
    from :func:`balanced_feature_columns`; ``rest_bound`` a lower
    bound of the objective computed on the *other* feature columns alone
    (:func:`optimizer.bound.lagrangian_bound` on them; 0 if none). A pair's
    rounded cost is at least the sum of its parts less one unit (½ for each
    rounding), hence ``⌊COST_SCALE · Σ column bounds⌋ + rest_bound − n``.
    The work is shared evenly by the columns. Clusters of at most
    :data:`optimizer.pattern_bound.MAX_CLUSTER_SIZE` units get
    :func:`optimizer.pattern_bound.pattern_bound` (the band kept exactly; two to
    three times this module's bound there) when the work buys enough of its rounds.

    ``linear_may_start`` (default: always) is asked before each run of this
    module's bound, whose first step cannot stop (2 s at 50 000 units): when it
    says no, that column adds nothing (``details["column_bound_skipped"]``). The
    pattern bound needs no such question — it stops between rounds, and its
    setup and first round took 0.5 s at 50 000 units.

    Ctrl-C raises :class:`optimizer.interrupts.BoundInterrupted` with the bound
    in hand (integer cost units), the cut column's best value included.
    """
    from optimizer.objective import COST_SCALE
    from optimizer.pattern_bound import pattern_bound  # it imports this module

    labels = np.asarray(labels)
    total, its, pattern_its, stopped, skipped = 0.0, 0, 0, False, False
    try:
        for index, col in columns:
            band_lo, band_hi = col.band(k)
            slack = 1e-9 * max(abs(band_lo), abs(band_hi), 1.0)  # the checker's own tolerance
            share = max_work // len(columns)
            # small clusters: the band kept exactly in each cluster (optimizer/pattern_bound.py),
            # when the work buys enough of its rounds; otherwise the band priced linearly
            patterns = pattern_bound(x[:, index], col.values, k, lo, hi, band_lo - slack,
                                     band_hi + slack, labels,
                                     max_work=int(share * PATTERN_WORK_PER_COLUMN_WORK),
                                     deadline=deadline)
            if patterns.ran:
                pattern_its += patterns.iterations
            if patterns.value > 0:
                res = patterns
            elif linear_may_start is not None and not linear_may_start():
                # the clock ended the pattern rounds, or the phases left too little for
                # the linear bound's unstoppable first step: the time limit wins
                res, skipped = ColumnBound(0.0, 0, 0, clock_stopped=True), True
            else:  # out of its scope, or its rounds ended before its duals bound anything
                res = column_band_bound(x[:, index], col.values, k, lo, hi, band_lo - slack,
                                        band_hi + slack, labels, max_work=share, deadline=deadline)
                its += res.iterations
            total += res.value
            stopped |= res.clock_stopped
    except KeyboardInterrupt as cut:
        # Ctrl-C: the columns done, the best value of the one cut short, and the rest
        partial = cut.bound if isinstance(cut, BoundInterrupted) else 0.0
        raise BoundInterrupted(max(int(np.floor(COST_SCALE * (total + partial)))
                                   + int(rest_bound) - len(labels), 0)) from None
    bound = max(int(np.floor(COST_SCALE * total)) + int(rest_bound) - len(labels), 0)
    details: dict[str, float] = {"column_bound": total, "column_bound_iterations": its,
                                 "rest_bound": rest_bound / COST_SCALE}
    if pattern_its:
        details["pattern_bound_iterations"] = pattern_its
    if stopped:
        details["column_bound_clock_stopped"] = True
    if skipped:
        details["column_bound_skipped"] = True
    return bound, details


def other_columns(x: np.ndarray, columns) -> np.ndarray:
    """The feature matrix ``x`` without the balanced columns: the rest's part."""
    return np.delete(x, [index for index, _ in columns], axis=1)
