"""A Lagrangian lower bound of the capacitated p-median, for large tables.

Why: above ``FULL_MODEL_MAX_UNITS`` the plan's objective used to be compared
with "each non-medoid unit costs at least its nearest-neighbour distance"
(:func:`optimizer.lns.full_lower_bound`), which is valid but reads as a gap
of 0.8–0.97 — planners took that as "this plan may be 5× worse than optimal".
This module computes a bound that is just as valid and much closer.

Relaxation. Keep only the cluster count ``k`` and the size bounds — every
scenario's plans satisfy them, so the bound holds for the full scenario
(move costs of a stability weight are ≥ 0 and only add). Choosing ``k``
medoids ``j`` and clusters around them is then relaxed by dropping "each unit
in exactly one cluster" with multipliers ``u_i``::

    L(u) = Σ_i u_i + (sum of the k smallest ρ_j(u))
    ρ_j(u) = −u_j + min over lo−1 ≤ m ≤ hi−1 of the m smallest (d_ij − u_i), i ≠ j

``L(u)`` is a lower bound for every ``u`` (weak duality), so the best value
seen is kept; ``u`` follows Polyak subgradient steps aimed at the incumbent
plan's objective, starting from the incumbent's own assignment costs or a
blend of them with nearest-neighbour costs, whichever gives the higher L.

Balance (scenario F). Each band ``low ≤ Σ_C p_i ≤ high`` of a cluster is
kept inside ``ρ_j`` by a second multiplier μ: any μ gives a lower bound of
the cheapest cluster around ``j`` within the band, so each row takes the best
of a geometric grid of μ (it tries its last grid point and the two next to
it per iteration; only rows that could be among the k cheapest). Without
this the relaxation ignores balance and the 700-unit F gap stays ~0.68; with
it 0.49 (3 300: 0.89 → 0.76).

Scale. All pairs are n² (11 M at 3 300 units). Each unit ``i`` keeps exact
costs to its ``q`` nearest neighbours; for every other ``j``, ``d_ij`` is
replaced by ``D_i`` ≤ ``d_ij`` (the ``q``-th neighbour's cost, minus one for
float rounding) — lower costs only lower the bound. For a medoid ``j`` the
units with an exact cost are its neighbours both ways (``j`` among their
``q`` nearest, or they among ``j``'s); every other unit costs ``D_i − u_i``,
a vector shared by all medoids, so its sorted prefix serves every ``ρ_j``
exactly. Memory is linear in ``n·q``.

Medoid groups (small clusters). ``D_i`` is the same for every medoid, so
when each unit has ``q`` near twins (strong categorical columns, clusters of
5–7) a unit costs next to nothing to any far medoid and L stalls near 0:
3 300 units, 550 clusters, similarity on function / region / location: 7.6
against a plan of 123 (93.7 with every cost exact). With clusters of at most
``GROUP_MAX_SIZE`` the medoids are split into groups (k-means), each with its
own far vector — per unit, a cost no medoid of the group can undercut
(:func:`optimizer.bound_rows.with_groups`) — and its own sorted prefix: 67.9
there, with the top-up. Larger clusters take their members mostly from the
exact neighbours; there the groups' extra work cost more steps than they
gained (benchmark S, 3 300 units: gap 0.177 → 0.196).

Determinism: the iteration count follows ``max_work`` (entries sorted); the
wall-clock ``deadline`` only stops early (``BoundResult.clock_stopped``).
Multipliers are rounded to integers before each evaluation, so without
balance ``L(u)`` is exact integer arithmetic (float64 holds these sums
exactly); with balance a margin covers float rounding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.bound_rows import (
    balance_grid,
    balanced_rows,
    cluster_rows,
    exact_costs,
    members_of,
    neighbour_graph,
    with_groups,
)
from optimizer.interrupts import BoundInterrupted
from optimizer.objective import COST_SCALE, central_members
from optimizer.subgradient import StepFactor

#: Exact costs kept per unit, as a multiple of the largest cluster size
#: (700 units S, 1e8 work: gap 0.153 at 4, 0.147 at 8, 0.147 at 16).
NEIGHBOUR_FACTOR = 8
#: ... cut towards MIN_FACTOR × size when the allowance would pay for fewer
#: than TARGET_ITERATIONS evaluations (an evaluation costs about
#: ROW_COST_PER_NEIGHBOUR × q entries per unit). Measured, 6e7 work: 700 units
#: F gap 0.48 (q = 8 hi) vs 0.58 (4 hi); 3 300 S 0.19 (4 hi) vs 0.25 (8 hi);
#: 10 000 S 0.40 (4 hi) vs 0.55 (2 hi).
MIN_FACTOR = 4
TARGET_ITERATIONS = 40
ROW_COST_PER_NEIGHBOUR = 3
#: ... but never fewer than this many (small clusters still need a neighbourhood).
MIN_NEIGHBOURS = 32
#: Above this many exact (unit, neighbour) costs the neighbour count is cut
#: (memory: the symmetrised graph holds up to twice as many, 24 bytes each,
#: plus the search's own arrays). It binds only past ~20 000 units; measured at
#: 50 000 units S (standalone, seed 0): 4e6 (q = 80) gap 0.775 in 13 s, peak
#: 0.64 GB; 1e7 (q = 200) 0.691 in 26 s, 1.2 GB; 2e7 (q = 400) 0.516 in 49 s,
#: 2.1 GB — far inside issue 7's 8 GB, and the neighbourhood the bound needs.
MAX_GRAPH_ENTRIES = 20_000_000
#: Medoid groups with far costs of their own (optimizer/bound_rows.py), only for
#: clusters of at most GROUP_MAX_SIZE units: one per GROUP_CLUSTERS largest
#: clusters' worth of units, their far vectors (one per group, n entries each)
#: at most GROUP_WORK_SHARE of an evaluation's row work and MAX_GROUP_ENTRIES in
#: all. 3 300 units in clusters of 5–7, 3e9 work: 7.6 without, 55.9 / 72.0 / 91.3
#: with 32 / 128 / 512 groups (0.03 / 0.08 s per evaluation at 128 / 512 against 0.01);
#: in the product (118 groups there, 30 s) 47.2 in its share, 67.9 with the top-up. Init scenarios,
#: 30 s, gap without → with: 700 units 0.288 → 0.264, 3 300 units 0.544 → 0.315
#: and 0.446 → 0.215, 10 000 units 0.788 → 0.62–0.66; plans unchanged.
GROUP_CLUSTERS = 4
GROUP_MAX_SIZE = 12
GROUP_WORK_SHARE = 1.0
MAX_GROUP_ENTRIES = 10_000_000
#: Wall seconds of the groups' build per (unit, group) entry, with a margin for
#: load (measured 1.3e-7 at 10 000 and 50 000 units, 192 groups).
GROUP_BUILD_S_PER_ENTRY = 2e-7
#: Work per neighbour found, GRAPH_WORK_SCALE × n ** GRAPH_WORK_EXPONENT: measured
#: 0.38 / 0.53 / 1.1 / 3.4 µs per neighbour at 700 / 3 300 / 10 000 / 50 000
#: units (loaded) at BOUND_WORK_PER_S. At most GRAPH_SHARE of the allowance goes
#: to the search; fewer than MIN_USEFUL neighbours and the bound is skipped.
GRAPH_WORK_SCALE = 0.04
GRAPH_WORK_EXPONENT = 0.66
GRAPH_SHARE = 0.5
MIN_USEFUL = 8
#: Share of a count's nominal time granted to the bound, and the work (table
#: entries) per nominal second: measured 3e7/s at 700 units, 2.5e7 at 3 300,
#: 1.1e7 at 10 000 (loaded machine, graph build included).
BOUND_SHARE = 0.1
BOUND_WORK_PER_S = 1.5e7
#: Polyak step factor at the start, its halving, and the iterations without a
#: better bound before halving (700 units, 6e7 work: S 0.150 at 5, 0.151 at 10).
STEP_START = 1.0
STEP_DECAY = 0.5
PATIENCE = 5
#: Stop once the step factor falls below this (no further progress expected).
STEP_MIN = 1e-3
#: With a balance band, rows (per cluster wanted) that also try multipliers:
#: those cheapest at μ = 0, where the k smallest ρ are found (3 300 units F,
#: 6e7 work: gap 0.87 trying every row, 0.79 with 8 per cluster and the aim
#: below; 700 F: 0.50 both ways).
GRID_ROWS = 8
#: When the Lagrangian is a scenario's whole bound (bands on columns that are
#: not a criterion, or sizes only with medoid groups) and it ends still rising
#: with the plan's gap at least
#: TOPUP_GAP, it runs once more from the start with TOPUP_FACTOR times its
#: allowance (a count of work, so still repeatable; the wall clock still ends it
#: by the time limit). Sample tables, similarity on function / region /
#: location, population ±10 %, bound only: 3 300 units 88 → 166 (× 4, 5.3 s)
#: or 178 (× 8, 10.6 s), plan 375; 10 000 units 25 → 79 (× 4, 5.1 s) or 118
#: (× 8, 9.7 s), plan 685.
TOPUP_GAP = 0.5
TOPUP_FACTOR = 8
#: Polyak steps aim this far from the best bound towards the incumbent's
#: objective, not at it (an F incumbent is far above the optimum; 3 300 F:
#: 0.84 at 1.0, 0.82 at 0.5, 0.79 at 0.25; 700 S: 0.127 at 1.0, 0.137 at 0.25).
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class BoundResult:
    """The best Lagrangian value found (integer cost units) and how it was reached."""

    bound: int
    iterations: int
    neighbours: int
    work: int
    clock_stopped: bool
    #: The steps ended on their own (step factor spent, incumbent reached, zero
    #: subgradient) rather than on the work allowance or the clock: more work
    #: would not have raised the bound much. False also when no step ran.
    converged: bool = False
    #: Medoid groups whose far costs were used (0: the shared truncation only).
    groups: int = 0

    @property
    def value(self) -> float:
        """The bound in objective units (``bound / COST_SCALE``)."""
        return self.bound / COST_SCALE


def size_window(n: int, k: int, min_size: int | None, max_size: int | None) -> tuple[int, int]:
    """Sizes any cluster of a feasible ``k``-partition can have (rules tightened by ``n``)."""
    lo = max(min_size or 1, 1)
    hi = min(max_size or n, n)
    return max(lo, n - (k - 1) * hi), min(hi, n - (k - 1) * lo)

def neighbour_count(n: int, hi: int, max_work: int | None = None) -> int:
    """Exact costs kept per unit: a few cluster sizes' worth, memory and work permitting.

    More neighbours tighten every evaluation but make each one dearer; the
    allowance should still pay for about ``TARGET_ITERATIONS`` of them.
    """
    q = max(NEIGHBOUR_FACTOR * hi, MIN_NEIGHBOURS)
    if max_work is not None:
        affordable = max_work // (TARGET_ITERATIONS * ROW_COST_PER_NEIGHBOUR * max(n, 1))
        q = min(q, max(MIN_FACTOR * hi, affordable))
        # the neighbour search cannot be stopped: it must fit in its share up front
        q = min(q, int(GRAPH_SHARE * max_work / (max(n, 1) * graph_work(n))))
    return max(min(q, MAX_GRAPH_ENTRIES // max(n, 1), n - 1), min(n - 1, 1))


def group_count(n: int, hi: int, q: int) -> int:
    """Medoid groups for :func:`optimizer.bound_rows.with_groups`: one per GROUP_CLUSTERS
    largest clusters' worth of units, each evaluation's extra work (a far vector per
    group) at most GROUP_WORK_SHARE of the rows' own, and within memory."""
    n = max(n, 1)
    if hi > GROUP_MAX_SIZE:
        return 0
    wanted = -(-n // max(GROUP_CLUSTERS * hi, 1))
    return int(max(min(wanted, GROUP_WORK_SHARE * ROW_COST_PER_NEIGHBOUR * q,
                       MAX_GROUP_ENTRIES // n), 0))


def graph_work(n: int) -> float:
    """Work charged per neighbour found (the k-d tree search slows as ``n`` grows)."""
    return GRAPH_WORK_SCALE * max(n, 1) ** GRAPH_WORK_EXPONENT


def useful_work(n: int, hi: int) -> int:
    """Work that buys ``TARGET_ITERATIONS`` evaluations at the smallest neighbourhood worth having.

    That is ``MIN_FACTOR × hi`` neighbours (the floor :func:`neighbour_count`
    cuts to), their search included. Below it the bound stops after a few
    evaluations: 10 000 units S got 9 in its share, gap 0.45, against 0.25
    with 3 × that work and 0.14 with 10 ×.
    """
    n = max(n, 1)
    q = max(min(max(MIN_FACTOR * hi, MIN_NEIGHBOURS), MAX_GRAPH_ENTRIES // n, n - 1), 1)
    graph = n * q * graph_work(n)
    evaluations = TARGET_ITERATIONS * (ROW_COST_PER_NEIGHBOUR * q + group_count(n, hi, q)) * n
    return int(max(graph + evaluations, graph / GRAPH_SHARE))


def lagrangian_value(
    features, k: int, min_size: int | None, max_size: int | None, u: np.ndarray,
    *, neighbours: int | None = None, balance: Sequence[tuple[np.ndarray, float, float]] = (),
    scale: float = 1.0,
) -> float:
    """``L(u)`` for the given multipliers, every balance grid point tried (valid for any ``u``)."""
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)
    n = len(values)
    lo, hi = size_window(n, k, min_size, max_size)
    q = neighbours if neighbours is not None else neighbour_count(n, hi)
    g = neighbour_graph(values, min(max(q, 1), n - 1))
    u = np.asarray(u, dtype=np.float64)
    grid, _ = balance_grid(balance, n, scale)
    rho = np.max([cluster_rows(g, u - shift, lo, hi)[0] - const for shift, const in grid], axis=0)
    return float(u.sum() + np.sort(rho, kind="stable")[:k].sum())


def _incumbent_costs(values: np.ndarray, labels: np.ndarray) -> tuple[int, np.ndarray]:
    """The incumbent's medoid objective and each unit's cost to its cluster's medoid."""
    own = np.zeros(len(labels))
    total = 0
    for c in np.unique(labels):
        idx = np.nonzero(labels == c)[0]
        (medoid,), (cost,) = central_members(values, idx)
        own[idx] = exact_costs(values, idx, np.full(len(idx), medoid))
        total += int(cost)
    return total, own


def lagrangian_bound(
    features,
    k: int,
    min_size: int | None,
    max_size: int | None,
    incumbent_labels: Sequence[int] | None,
    *,
    max_work: int,
    deadline: float | None = None,
    neighbours: int | None = None,
    balance: Sequence[tuple[np.ndarray, float, float]] = (),
) -> BoundResult:
    """Best Lagrangian lower bound found within ``max_work`` (integer cost units).

    ``features`` is a :class:`features.types.FeatureMatrix` (or its value
    array); ``incumbent_labels`` (cluster per unit, any numbering) gives the
    step target and the start; without it the bound is 0. ``neighbours``
    overrides ``q`` (``n − 1`` = exact costs, for tests). ``deadline`` is a
    ``time.monotonic()`` safety stop only.
    """
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)
    n = len(values)
    if incumbent_labels is None or n <= k or k <= 0 or values.shape[1] == 0:
        return BoundResult(0, 0, 0, 0, False)  # (no columns: every plan costs 0)
    lo, hi = size_window(n, k, min_size, max_size)
    if lo > hi:
        return BoundResult(0, 0, 0, 0, False)
    q = neighbours if neighbours is not None else neighbour_count(n, hi, max_work)
    q = min(max(q, 1), n - 1)
    if neighbours is None and q < min(MIN_USEFUL, n - 1):
        return BoundResult(0, 0, q, 0, False)
    g = neighbour_graph(values, q)
    groups = group_count(n, hi, q)
    # the groups' build cannot stop: it starts only if it ends by the deadline
    if deadline is not None and time.monotonic() + GROUP_BUILD_S_PER_ENTRY * n * groups > deadline:
        groups = 0
    g, group_work = with_groups(g, values, groups)
    target, u = _incumbent_costs(values, np.asarray(incumbent_labels))
    # at u = nearest-neighbour costs L(u) ≥ full_lower_bound: never weaker than it
    grid, zero = balance_grid(balance, n, target / k)
    at = np.full(n, zero, dtype=np.int64)
    rho, _, done = cluster_rows(g, g.near, lo, hi)
    best = int(np.floor(g.near.sum() + np.sort(rho, kind="stable")[:k].sum()))
    try:  # Ctrl-C: every value seen is a valid bound, so the best one is handed over
        spent = int(n * q * graph_work(n)) + group_work + done
        step, it, stopped = StepFactor(STEP_START, PATIENCE, STEP_DECAY), 1, False
        converged = False
        # start where L is higher: the incumbent's own costs, halfway to the
        # nearest-neighbour costs with outliers capped (own costs above D_i make
        # every medoid grab those units: 10 000 units S, L(own) = −2 × the plan),
        # or the nearest-neighbour costs themselves. Without the last, the steps
        # started far below the best L already seen and never caught up: sample
        # tables, similarity on function / region / location, population ±10 %,
        # L at the blend −28 / −416 / −935 against 22 / 31 / 25 at the nearest
        # costs (700 / 3 300 / 10 000 units); at 3 300 with 1e8 work the bound
        # went from 30.8 to 83.6 (plan 375)
        starts = [u, 0.5 * (np.minimum(u, g.far) + g.near), g.near.astype(np.float64)]
        values_at = []
        for u0 in starts:
            rho, _, done = cluster_rows(g, np.rint(u0), lo, hi)
            spent += done
            values_at.append(float(np.rint(u0).sum() + np.sort(rho, kind="stable")[:k].sum()))
        u = starts[int(np.argmax(values_at))]
        best = max(best, int(np.floor(max(values_at))))
        while spent < max_work and step.theta >= STEP_MIN and best < target:
            if deadline is not None and time.monotonic() >= deadline:
                stopped = True
                break
            u = np.rint(u)
            rho, at, done = balanced_rows(g, u, lo, hi, grid, at, zero, GRID_ROWS * k)
            chosen = np.argsort(rho, kind="stable")[:k]
            value = float(u.sum() + rho[chosen].sum())
            if len(grid) > 1:
                # balance shifts are not integers: keep a margin over float rounding
                value -= 1.0 + 1e-9 * float(np.abs(u).sum() + np.abs(rho[chosen]).sum())
            spent += done + n
            it += 1
            step.update(value > best)
            if value > best:
                best = int(np.floor(value))
            # subgradient: 1 − (how many chosen clusters hold unit i)
            members, done = members_of(g, u, lo, hi, grid, at, chosen)
            spent += done
            count = np.zeros(n)
            count[chosen] += 1
            for m in members:
                count[m] += 1
            grad = 1.0 - count
            norm = float(grad @ grad)
            if norm == 0.0:
                converged = True
                break
            aim = best + TARGET_RATIO * (target - best)
            u = u + step.theta * max(aim - value, 0.0) / norm * grad
    except KeyboardInterrupt:
        raise BoundInterrupted(best) from None
    converged = converged or step.theta < STEP_MIN or best >= target
    return BoundResult(best, it, q, spent, stopped, converged,
                       0 if g.group_of is None else int(g.group_of.max()) + 1)
