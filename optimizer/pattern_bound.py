"""A lower bound from one balanced column for small clusters: column generation over unit groups.

Why: :mod:`optimizer.column_bound` bounds a balanced column's part of the
objective by pricing the band with one multiplier inside each cluster. With
clusters of 30+ units that linear price is nearly exact, but with the 5–7
units a cluster that ``cumkhoi init`` proposes for a commune table it is
not — a handful of units either fits the band or does not. Measured on a
3 300-unit ``cumkhoi sample`` table (550 clusters of 5–7, population
±55 %, the plan's population part 866): that bound reaches 241 in 16 s and
312 in 163 s, so the plan's reported gap stayed at 0.77–0.87. This module
keeps the band *exactly* inside each cluster and reaches 581.6 on the same
table (50 rounds, ~4 s): the 30-s plan's gap falls from 0.87 to 0.56, the
120-s plan's from 0.77 to 0.54 (and its solve from 119 s to 70 s, the old
bound having run until the clock stopped it).

Relaxation. Sort the units by the column ``z`` and cut them into groups of
alike units; a group ``g`` spans ``[za_g, zb_g]`` in ``z`` and
``[pa_g, pb_g]`` in the balanced quantity ``p`` (cut so that
``pb_g ≤ (1 + ρ)·pa_g``). A cluster of a plan becomes a *pattern*: how many
units it takes from each group, and the cell of the line its mean falls in.
Its cost on the column, ``min_t Σ (z_i − t)²``, is at least the pattern's
cost with every unit priced at its group's distance to the cell, and its
band ``lo ≤ Σ p ≤ hi`` implies ``Σ c_g·pa_g ≤ hi`` and
``Σ c_g·pa_g ≥ lo / (1 + ρ)``. So every plan gives ``k`` patterns that use
each group's units exactly, and the linear programme

    min Σ_P cost_P·x_P   s.t.  Σ_P c_gP·x_P = n_g (each group g),  Σ_P x_P = k,  x ≥ 0

is a lower bound of the column's part. It is solved by column generation:
a HiGHS master over the patterns found so far (the incumbent plan's
clusters first, so it is feasible from the start), and a pricing step — the
cheapest pattern per cell under the master's duals, an exact dynamic
programme over (units taken, band total in steps of ``band_hi / W_STEPS``,
rounded so that it only relaxes). Whatever the duals ``u``, weak duality
gives ``Σ_g n_g·u_g + k·(cheapest pattern's reduced cost)`` as a valid
bound, so the best value seen is kept, and the master's duals are smoothed
towards the best ones (Wentges) so the bound climbs steadily.

Scope. Clusters of at most :data:`MAX_CLUSTER_SIZE` units and a
non-negative balanced quantity; otherwise (``ran`` False) or when the work
ends before the bound turns positive, :func:`optimizer.column_bound.decomposed_bound`
runs the linear-price bound instead.

Measured knobs (the 3 300-unit table, converged): ``RHO`` 0.02 / 0.03 /
0.05 / 0.10 → 621 / 589 / 543 / 480 (more groups, slower: linear in them);
cells 100 / 150 / 300 → 570 / 582 / 600; band steps 150 → 505 (0.05);
float32 and "up to ``hi`` copies of any group" (no per-group count in the DP)
cut the time from 10.4 s to 3.8 s for 0.6 of bound.

Determinism: the iteration count follows ``max_work``; the wall-clock
``deadline`` only stops early (``ColumnBound.clock_stopped``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from optimizer.column_bound import ColumnBound, column_value, incumbent_value
from optimizer.highs import new_highs
from optimizer.interrupts import BoundInterrupted

#: Largest cluster (units) the pricing's dynamic programme is built for; larger
#: clusters keep :mod:`optimizer.column_bound`, whose linear band price is
#: close to exact there.
MAX_CLUSTER_SIZE = 12
#: Quantile groups the sorted column is cut into before the ``p`` splits.
GROUPS = 60
#: A group's largest ``p`` is at most ``1 + RHO`` times its smallest: the band's
#: lower end is loosened by that factor (and nothing else).
RHO = 0.03
#: Cells of the line the cluster mean is placed in, at most (the pricing's work is linear in them).
MAX_CELLS = 150
#: More groups than this after the splits (a ``p`` unrelated to ``z``): no bound.
MAX_GROUPS = 300
#: The band total is counted in steps of ``band_hi / W_STEPS``.
W_STEPS = 300
#: New patterns taken into the master per pricing (the cheapest cells' ones).
COLUMNS_PER_ROUND = 40
#: Wentges smoothing: the duals priced are this share of the best duals seen
#: plus the rest of the master's.
SMOOTHING = 0.5
#: A pattern enters the master when its reduced cost is below minus this share of the count row's dual.
REDUCED_COST_TOL = 1e-7
#: Pricing rounds the work must buy for the bound to run at all: the first
#: rounds only repair the master's duals and bound nothing (3 300 units, 550
#: clusters: −2 408 after 10 rounds, 218 after 14, 487 after 20, 575 after 25,
#: 581.6 converged after 50; 120 units, 20 clusters, a poor incumbent: first
#: positive after ~45). When it ends at 0 the caller runs the other bound.
MIN_ROUNDS = 20
#: Relative safety margin on the float result.
FLOAT_MARGIN = 1e-9


@dataclass(frozen=True)
class _Groups:
    """Groups of alike units: their ``z`` and ``p`` spans, sizes and each unit's group."""

    za: np.ndarray
    zb: np.ndarray
    pa: np.ndarray
    count: np.ndarray
    of_unit: np.ndarray
    rho: float


def _groups(z: np.ndarray, p: np.ndarray, n_groups: int, rho: float) -> _Groups:
    """Cut the units, sorted by ``z``, into ``n_groups`` quantiles, then split so ``max p ≤ (1+ρ)·min p``.

    The split keeps every group valid whatever the link between ``z`` and
    ``p``; with ``z`` an increasing function of ``p`` (a log-scaled
    population) it adds groups only where ``p`` is spread (the large units).
    """
    n = len(z)
    order = np.lexsort((p, z))
    zs, ps = z[order], p[order]
    cuts = np.unique(np.linspace(0, n, min(n_groups, n) + 1).astype(np.int64))
    starts: list[int] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        s = int(a)
        starts.append(s)
        low = ps[s]
        high = ps[s]
        for i in range(s + 1, int(b)):
            low, high = min(low, ps[i]), max(high, ps[i])
            if high > (1.0 + rho) * low:
                starts.append(i)
                low = high = ps[i]
    bounds = np.array(starts + [n])
    za = zs[bounds[:-1]]
    zb = np.maximum.reduceat(zs, bounds[:-1])
    pa = np.minimum.reduceat(ps, bounds[:-1])
    count = np.diff(bounds)
    of_sorted = np.repeat(np.arange(len(count)), count)
    of_unit = np.empty(n, dtype=np.int64)
    of_unit[order] = of_sorted
    return _Groups(za, zb, pa, count, of_unit, rho)


def _cells(z: np.ndarray, max_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells of the line the cluster mean can fall in: the spans between consecutive edges,
    half of them quantiles of ``z`` (fine where units are dense) and half evenly spaced
    (no wide cell across a gap between values: there every unit would cost 0).

    A unit is priced at its group's distance to the cell, so coarser cells
    give a weaker (still valid) bound; the pricing's work is linear in the cells.
    """
    half = max(max_cells // 2, 1)
    edges = np.unique(np.concatenate([np.quantile(z, np.linspace(0.0, 1.0, half + 1)),
                                      np.linspace(z.min(), z.max(), half + 1)]))
    if len(edges) < 2:
        return edges, edges  # one value: one cell, a point
    return edges[:-1], edges[1:]


class _Pricing:
    """The cheapest pattern per cell for given duals: a DP over (units taken, band total)."""

    def __init__(self, groups: _Groups, cell_a: np.ndarray, cell_b: np.ndarray, lo: int, hi: int,
                 band_lo: float, band_hi: float):
        self.groups = groups
        self.lo, self.hi = lo, hi
        # a unit of group g costs at least the squared gap between the group's span and the cell
        self.cost = np.maximum(np.maximum(cell_a[:, None] - groups.zb[None, :],
                                          groups.za[None, :] - cell_b[:, None]), 0.0) ** 2
        step = band_hi / W_STEPS
        self.w = np.floor(groups.pa / step).astype(np.int64)
        self.w_max = W_STEPS
        # Σ c·w > Σ c·pa/step − s ≥ band_lo / ((1+ρ)·step) − s
        self.w_min_for = {s: int(np.ceil(band_lo / ((1.0 + groups.rho) * step))) - s
                          for s in range(hi + 1)}

    @property
    def work(self) -> int:
        """Entries one pricing touches (groups × sizes × cells × band steps)."""
        t, g = self.cost.shape
        return int(g * self.hi * t * (self.w_max + 1))

    def cheapest(self, u: np.ndarray) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Per cell: a lower bound of the cheapest pattern's reduced cost (inf if none fits) and
        the pattern found.

        Each group may be taken up to ``hi`` times even when it holds fewer units
        (one copy at a time keeps the DP at one pass per group; only relaxes, and
        the master's rows still count each group's units). The table is float32
        (half the memory traffic: 3.8 s instead of 10.4 s to converge at 3 300
        units); the value returned is lowered by the most that rounding can move
        a sum of ``hi`` terms, so it stays a bound.
        """
        t_cells, n_groups = self.cost.shape
        hi, wm = self.hi, self.w_max
        table = np.full((hi + 1, t_cells, wm + 1), np.inf, dtype=np.float32)
        table[0, :, 0] = 0.0
        took = np.zeros((n_groups, hi + 1, t_cells, wm + 1), dtype=bool)
        reduced64 = self.cost - u[None, :]
        reduced = reduced64.astype(np.float32)
        for g in range(n_groups):
            w, r = int(self.w[g]), reduced[:, g][:, None]
            if w > wm:
                continue
            width = wm + 1 - w
            for s in range(1, hi + 1):  # ascending: a copy of g may follow a copy of g
                cand = table[s - 1, :, :width] + r
                here = table[s, :, w:]
                better = cand < here
                np.copyto(here, cand, where=better)
                took[g, s, :, w:] = better
        best = np.full(t_cells, np.inf)
        at = np.zeros((t_cells, 2), dtype=np.int64)
        for s in range(self.lo, hi + 1):
            w0 = max(self.w_min_for[s], 0)
            if w0 > wm:
                continue
            sub = table[s, :, w0:]
            j = np.argmin(sub, axis=1)
            v = sub[np.arange(t_cells), j].astype(np.float64)
            better = v < best
            best[better] = v[better]
            at[better] = np.stack([np.full(int(better.sum()), s), w0 + j[better]], axis=1)
        # |float32 sum − exact| ≤ (hi² + hi)·2⁻²⁴·max|term| (hi roundings of terms, hi
        # additions to partial sums of at most hi terms); twice that for safety
        best -= (hi * hi + hi) * 2.0 ** -23 * float(np.max(np.abs(reduced64)))
        patterns: list[np.ndarray | None] = []
        for t in range(t_cells):
            if not np.isfinite(best[t]):
                patterns.append(None)
                continue
            s, w_at = int(at[t, 0]), int(at[t, 1])
            counts = np.zeros(n_groups, dtype=np.int64)
            g = n_groups - 1
            while s > 0:
                assert g >= 0, "pricing backtrack ran past the first group"
                if took[g, s, t, w_at]:
                    counts[g] += 1
                    s, w_at = s - 1, w_at - int(self.w[g])
                else:
                    g -= 1
            patterns.append(counts)
        return best, patterns


class _Master:
    """The restricted master LP over the patterns found so far (HiGHS, warm between rounds)."""

    def __init__(self, count: np.ndarray, k: int):
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("random_seed", 0)
        rhs = np.concatenate([count, [k]]).astype(np.float64)
        self.h.addRows(len(rhs), rhs, rhs, 0, np.array([], dtype=np.int32),
                       np.array([], dtype=np.int32), np.array([], dtype=np.float64))
        self.rows = len(rhs)
        self.known: set[bytes] = set()

    def add(self, counts: np.ndarray, cost: float) -> bool:
        """Add a pattern unless the master has it already (HiGHS's dual tolerance can
        leave a present pattern's reduced cost a hair below 0). True if added."""
        key = counts.tobytes()
        if key in self.known:
            return False
        self.known.add(key)
        idx = np.concatenate([np.nonzero(counts)[0], [self.rows - 1]]).astype(np.int32)
        val = np.concatenate([counts[counts > 0], [1]]).astype(np.float64)
        self.h.addCol(cost, 0.0, highspy.kHighsInf, len(idx), idx, val)
        return True

    def duals(self) -> tuple[np.ndarray, float] | None:
        """Group duals and the count row's dual at the LP optimum (None if HiGHS did not solve it)."""
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        dual = np.asarray(self.h.getSolution().row_dual)
        return dual[:-1], float(dual[-1])


def pattern_bound(
    z: np.ndarray, p: np.ndarray, k: int, lo: int, hi: int, band_lo: float, band_hi: float,
    incumbent_labels: np.ndarray, *, max_work: int, deadline: float | None = None,
) -> ColumnBound:
    """Lower bound of Σ_clusters min_t Σ (z_i − t)² over plans of ``k`` clusters of ``lo..hi``
    units whose ``p`` totals lie in ``[band_lo, band_hi]``.

    ``incumbent_labels`` must be such a plan (its clusters seed the master).
    Returns 0 with ``ran=False`` outside the scope (module docstring) or when
    ``max_work`` buys fewer than :data:`MIN_ROUNDS` pricing rounds.
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    n = len(z)
    hi, lo = min(hi, n), max(lo, 1)
    if (n == 0 or k <= 0 or lo > hi or hi > MAX_CLUSTER_SIZE or band_hi <= 0
            or not np.all(np.isfinite(z)) or not np.all(np.isfinite(p)) or np.any(p < 0)):
        return ColumnBound(0.0, 0, 0, ran=False)
    groups = _groups(z, p, GROUPS, RHO)
    if len(groups.count) > MAX_GROUPS:
        return ColumnBound(0.0, 0, 0, ran=False)
    cell_a, cell_b = _cells(z, MAX_CELLS)
    pricing = _Pricing(groups, cell_a, cell_b, lo, hi, band_lo, band_hi)
    if max_work < MIN_ROUNDS * pricing.work:
        return ColumnBound(0.0, 0, 0, ran=False)
    master = _Master(groups.count, k)
    _, lab = np.unique(np.asarray(incumbent_labels), return_inverse=True)
    n_groups = len(groups.count)
    # each cluster's units per group in one pass (a mask per cluster was 0.2 s at 50 000 units)
    per_cluster = np.bincount(lab * n_groups + groups.of_unit,
                              minlength=(lab.max() + 1) * n_groups).reshape(-1, n_groups)
    for counts, cost in zip(per_cluster, (pricing.cost @ per_cluster.T).min(axis=0)):
        master.add(counts, float(cost))
    # the first duals: each group's mean share of the incumbent's cost (a unit's
    # squared distance to its cluster's mean) — the master, holding only the
    # incumbent's clusters, has degenerate duals that bound nothing for many rounds
    incumbent, own = incumbent_value(z, lab)
    best_u = np.bincount(groups.of_unit, weights=own, minlength=len(groups.count)) / groups.count
    best, it, spent, stopped = -np.inf, 0, 0, False
    try:  # Ctrl-C: the best value seen is a valid bound (column units)
        while spent + pricing.work <= max_work:
            if deadline is not None and time.monotonic() >= deadline:
                stopped = True
                break
            solved = master.duals()
            if solved is None:
                break
            u_lp, v = solved
            # price at the smoothed duals first; when their patterns do not improve the
            # master (a mispricing), at the master's own, whose empty answer proves the LP optimal
            tries = [SMOOTHING * best_u + (1 - SMOOTHING) * u_lp, u_lp]
            added = 0
            for u in tries:
                if spent + pricing.work > max_work:
                    break
                value, patterns = pricing.cheapest(u)
                spent += pricing.work
                it += 1
                bound = float(groups.count @ u + k * np.min(value))
                if bound > best:
                    best, best_u = bound, u
                for t in np.argsort(value, kind="stable"):
                    pat = patterns[t]
                    if pat is None or added == COLUMNS_PER_ROUND:
                        break
                    cost = float((pricing.cost @ pat).min())
                    if cost - float(pat @ u_lp) - v < -REDUCED_COST_TOL * max(1.0, abs(v)) and master.add(
                            pat, cost):
                        added += 1
                if added:
                    break
            if added == 0:
                break
    except KeyboardInterrupt:
        raise BoundInterrupted(column_value(best, incumbent)) from None
    # never above the incumbent's own value on the column (true of any valid bound;
    # guards against float trouble in the master)
    value = column_value(best, incumbent)
    # HiGHS not solving even the first master (never seen) leaves the other bound to run
    return ColumnBound(value, it, spent, stopped, ran=it > 0)
