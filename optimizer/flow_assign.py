"""Size-constrained k-means by min-cost flow on a sparse arc set.

Why: for fixed centres, the best assignment of units to clusters under size
bounds is a transportation problem — a min-cost flow (units → clusters →
sink, with each cluster's lower bound as a demand and the slack up to its
upper bound as an arc to the sink). Alternating it with moving each centre to
its cluster's mean is k-means-constrained's method; that library is slow only
because it builds every (unit, centre) arc for ten initialisations. Here each
unit gets arcs to its :data:`FLOW_NEAREST` nearest centres plus the arc to its
cluster in a plan that already meets the sizes, so the flow is feasible *by
construction* (that plan is a flow); without such a plan the arc set is
widened (doubled, up to every centre) until the flow solver says feasible,
and the dense arc set is feasible exactly when ``k·min ≤ n ≤ k·max``.

Determinism: integer costs (squared distance × :data:`FLOW_COST_SCALE`), a
fixed arc order and OR-Tools' deterministic solver; rounds stop when no unit
changes cluster or the work allowance (arcs summed over rounds, see
:mod:`optimizer.budget`) runs out — the wall clock is only a safety stop,
marked on ``clock``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace

import numpy as np
from ortools.graph.python import min_cost_flow

from optimizer.budget import FLOW_WORK_PER_S, REGION_WORK_PER_S, Clock, must_stop
from optimizer.data import ModelData
from optimizer.interrupts import RoundsInterrupted, StartInterrupted, carrying
from optimizer.local_search import cluster_blocks, sse
from optimizer.objective import COST_SCALE
from optimizer.problem import Problem
from optimizer.repair import cluster_means

#: Arcs per unit to its nearest centres (plus the arc to its current cluster).
#: Measured (700 units, K 50, one KMeans start): 8 nearest → 0.1117, every centre → 0.1131;
#: 3 300 / 10 000 units converged in 19 / 21 rounds (one widening at 10 000).
FLOW_NEAREST = 8
#: Unit × centre distance matrices up to this many entries are built whole
#: (400 MB, ~1.6 GB with temporaries: 50 000 units in 1 000 clusters); beyond,
#: each unit's nearest centres come from a tree.
DENSE_DISTANCES_MAX = 50_000_000
#: ... and the arcs widen at most to this many nearest centres per unit.
SPARSE_MAX_NEAREST = 256
#: Squared distances become integer arc costs at this scale (the objective's).
FLOW_COST_SCALE = COST_SCALE
#: Assignment / centre-update rounds at most (they stop earlier when labels settle).
FLOW_MAX_ROUNDS = 50
#: Whole-table k-means++ restarts after the start from the seed (work allowing).
#: Measured (seed 0): at 700 units they never beat the seed's start; at 3 300,
#: 2 restarts + regional restarts gave 0.0782 in 9.2 s CPU, no restart + twice
#: the regional work 0.0778 in 7.5 s — the regional restarts use the time better.
FLOW_RESTARTS = 0
#: Clusters re-clustered together by one regional restart. Measured at 3 300
#: units (seed 0, from 0.0812): 8 → 0.0805 after 881 tries, 16 → 0.0789 after 521;
#: 24 did worse than 16 for the same work (0.0784 against 0.0778). Capping a
#: restart's alternation at 6 rounds lost more than the extra tries gained.
#: A region's flow uses :data:`FLOW_NEAREST` arcs per unit, not all ``region``:
#: twice the tries per second, and at equal wall time (4 s, seeds 0–2) 0.0779 /
#: 0.0784 / 0.0802 against 0.0788 / 0.0785 / 0.0808 with every arc.
REGION_CLUSTERS = 16
#: A regional restart is kept when it lowers the sum of squares by this share of the total.
REGION_MIN_GAIN = 1e-9
#: Work charged per round on top of its arcs (numpy centre distances, graph build).
FLOW_ROUND_OVERHEAD = 100_000


@dataclass(frozen=True, slots=True)
class FlowResult:
    """Labels meeting the sizes and what the alternation did."""

    labels: np.ndarray
    rounds: int
    converged: bool
    widened: int
    work: int


def flow_allowed(problem: Problem, data: ModelData, *, within_blocks: bool = False) -> bool:
    """Whether the flow path applies: sizes are the only rules (no bands or graph).

    Together / apart / fixed units do not bar it: both its users put them in
    place after the flow (:func:`optimizer.local_search.place_locked`), and the
    regional restarts leave regions holding them alone (10 000 units, sizes
    45–55, one `together` group: the repaired seed that ran instead cost 912.5
    against 517.3 without the group). Nor does a stability weight: it is a
    price, applied after the ordinary phases (:mod:`optimizer.move_cost_search`).
    ``within_blocks``: one_region / one_function do not either, for a caller
    whose start keeps every cluster in one block and whose searches stay there.
    """
    from optimizer.local_search import local_search_allowed

    return (not data.balance and not problem.rules.contiguous
            and local_search_allowed(problem, data, with_move_cost=True,
                                     within_blocks=within_blocks))


def sizes_ok(labels: np.ndarray, k: int, min_size: int, max_size: int) -> bool:
    """Every cluster 0..k-1 holds between ``min_size`` and ``max_size`` units."""
    size = np.bincount(labels, minlength=k)
    return len(size) == k and bool((size >= min_size).all() and (size <= max_size).all())


def _arc_weight(n: int) -> int:
    """Work units per arc: the solver's time per arc grows about as √n.

    Measured (loaded machine, 8 nearest): 700 units 4.7e-7 s/arc, 3 300 1.7e-6,
    10 000 3.2e-6 — with √n weights 5.6e7, 3.5e7 and 3.1e7 units/s.
    """
    return max(math.isqrt(max(n, 1)), 1)


def _sq_dist(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances unit × centre (clipped at 0 against rounding)."""
    d = (
        np.einsum("ij,ij->i", X, X)[:, None]
        + np.einsum("ij,ij->i", centres, centres)[None, :]
        - 2.0 * X @ centres.T
    )
    return np.maximum(d, 0.0)


def _arcs(d: np.ndarray, nearest: int, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(unit, cluster) arcs: each unit's ``nearest`` centres plus its ``keep`` cluster, once each."""
    n, k = d.shape
    if nearest >= k:
        return np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    return _near_arcs(np.argpartition(d, nearest - 1, axis=1)[:, :nearest], keep)


def _near_arcs(near: np.ndarray, keep: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Arcs to each unit's listed centres (``near``: n × m) plus its ``keep`` cluster, once each."""
    n, m = near.shape
    rows, cols = np.repeat(np.arange(n, dtype=np.int64), m), near.ravel().astype(np.int64)
    if keep is None:
        return rows, cols
    # the keep arc where it is not among the nearest (no duplicate arcs; cheaper than a sort)
    extra = np.flatnonzero(~(near == keep[:, None]).any(axis=1))
    return np.concatenate([rows, extra]), np.concatenate([cols, keep[extra]])


def _sparse_arcs(
    X: np.ndarray, centres: np.ndarray, nearest: int, keep: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_arcs` and their squared distances without the n × k matrix (nearest centres by tree)."""
    from sklearn.neighbors import NearestNeighbors

    _, near = NearestNeighbors(n_neighbors=nearest).fit(centres).kneighbors(X)
    rows, cols = _near_arcs(near, keep)
    diff = X[rows] - centres[cols]
    return rows, cols, np.einsum("ij,ij->i", diff, diff)


def assign(
    d: np.ndarray, min_size: int, max_size: int, *, nearest: int = FLOW_NEAREST,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray | None, int, int]:
    """Minimum-cost assignment under sizes to the centres whose distances ``d`` gives.

    Returns ``(labels, work, widenings)`` (work: arcs weighted by
    :func:`_arc_weight`, summed over the widenings); labels is None only when no
    assignment exists at all (``k·min > n`` or ``k·max < n``). ``keep`` is a
    plan meeting the sizes (its arcs are always present, so no widening); the
    optimum is over the arc set, which is exact once it holds every arc.
    """
    def arcs(near: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, cols = _arcs(d, near, keep)
        return rows, cols, d[rows, cols]

    return _assign_arcs(arcs, *d.shape, min_size, max_size, nearest)


def assign_to_centres(
    X: np.ndarray, centres: np.ndarray, min_size: int, max_size: int, *,
    nearest: int = FLOW_NEAREST, keep: np.ndarray | None = None,
) -> tuple[np.ndarray | None, int, int]:
    """:func:`assign` for units ``X`` and ``centres``, the distance matrix only when it is small.

    Why: 50 000 units in 25 000 pairs need a 50 000 × 25 000 matrix (10 GB, and
    its temporaries: the run was killed at 24 GB). Above
    :data:`DENSE_DISTANCES_MAX` entries each unit's nearest centres come from a
    tree and only those arcs are costed; the widening then stops at
    :data:`SPARSE_MAX_NEAREST` (None: the caller's repair path runs).
    """
    n, k = len(X), len(centres)
    if n * k <= DENSE_DISTANCES_MAX:
        return assign(_sq_dist(X, centres), min_size, max_size, nearest=nearest, keep=keep)
    return _assign_arcs(lambda near: _sparse_arcs(X, centres, near, keep), n, k, min_size,
                        max_size, min(nearest, k), widest=min(SPARSE_MAX_NEAREST, k))


def _assign_arcs(
    arcs: Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]], n: int, k: int,
    min_size: int, max_size: int, nearest: int, widest: int | None = None,
) -> tuple[np.ndarray | None, int, int]:
    """The flow of :func:`assign` over ``arcs(nearest)``, doubling ``nearest`` up to ``widest``."""
    widest = k if widest is None else widest
    min_size = max(min_size, 0)
    max_size = min(max_size, n)
    if k * min_size > n or k * max_size < n:
        return None, 0, 0
    widened, total = 0, 0
    while True:
        rows, cols, cost = arcs(nearest)
        smcf = min_cost_flow.SimpleMinCostFlow()
        sink = n + k
        arcs_made = smcf.add_arcs_with_capacity_and_unit_cost(
            rows, n + cols, np.ones(len(rows), dtype=np.int64),
            np.rint(cost * FLOW_COST_SCALE).astype(np.int64))
        smcf.add_arcs_with_capacity_and_unit_cost(
            np.arange(n, n + k), np.full(k, sink), np.full(k, max_size - min_size, dtype=np.int64),
            np.zeros(k, dtype=np.int64))
        supplies = np.concatenate([np.ones(n, dtype=np.int64), np.full(k, -min_size, dtype=np.int64),
                                   [-(n - k * min_size)]])
        smcf.set_nodes_supplies(np.arange(n + k + 1), supplies)
        total += len(rows) * _arc_weight(n)
        status = smcf.solve()
        if status == smcf.OPTIMAL:
            flow = smcf.flows(arcs_made)
            used = flow > 0
            labels = np.empty(n, dtype=np.int64)
            labels[rows[used]] = cols[used]
            return labels, total, widened
        if nearest >= widest:  # every arc allowed and still infeasible (or no wider arcs)
            return None, total, widened
        nearest, widened = min(2 * nearest, widest), widened + 1


def flow_kmeans(
    X: np.ndarray, labels: list[int] | np.ndarray, k: int, min_size: int, max_size: int, *,
    nearest: int = FLOW_NEAREST, max_rounds: int = FLOW_MAX_ROUNDS, max_work: int | None = None,
    deadline: float = math.inf, clock: Clock | None = None,
) -> FlowResult | None:
    """Alternate the flow assignment with centre updates, starting from ``labels``' means.

    ``labels`` need not meet the sizes (the first round widens its arcs if it
    must); every later round keeps the previous round's arcs, so it is feasible
    and its sum of squares never rises (up to integer rounding of the costs).
    Every cluster keeps at least one unit. Stops when no unit moves
    (``converged``), after ``max_rounds``, or when the arcs summed over rounds
    reach ``max_work`` (arcs × √n summed over rounds); ``deadline`` (wall clock) only stops, marked on ``clock``.
    Returns None when no plan meets the sizes.
    """
    X = np.asarray(X, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    min_size = max(min_size, 1)
    keep = lab if sizes_ok(lab, k, min_size, max_size) else None
    allowance = math.inf if max_work is None else max_work
    spent = rounds = widened = 0
    converged = False
    best: np.ndarray | None = None
    try:
        while rounds < max_rounds:
            if best is not None and (spent >= allowance or time.monotonic() >= deadline):
                if spent < allowance and clock is not None:
                    clock.mark()
                break
            centres = cluster_means(X, lab, k)
            new, used, w = assign_to_centres(X, centres, min_size, max_size, nearest=nearest,
                                             keep=keep)
            rounds += 1
            widened += w
            spent += used + FLOW_ROUND_OVERHEAD
            if new is None:
                break
            same = keep is not None and bool((new == keep).all())
            best = keep = lab = new
            if same:
                converged = True
                break
    except KeyboardInterrupt:
        raise RoundsInterrupted(None if best is None else best.tolist()) from None
    if clock is not None:
        clock.charge(spent, FLOW_WORK_PER_S)
    if best is None:
        return None
    return FlowResult(best, rounds, converged, widened, spent)


@dataclass(frozen=True, slots=True)
class RegionStats:
    """What the regional restarts did: tries, kept tries and the work spent."""

    tries: int
    kept: int
    work: int


class RegionPicker:
    """Regions for regional restarts: a cluster and its nearest ones, with a fresh start.

    Every cluster leads a region once per sweep, in an order drawn from the
    generator seeded with ``seed``; the region's units get k-means++ centres
    from the same generator, so a run is deterministic. Shared by the sizes-only
    restarts here and the banded ones (:mod:`optimizer.band_regions`).
    """

    def __init__(self, k: int, region: int, seed: int) -> None:
        self.k, self.region = k, region
        self.rng = np.random.default_rng(seed)
        self.order: list[int] = []

    def draw(self, X: np.ndarray, labels: np.ndarray, cluster_block: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(clusters, units, start)``: the region's clusters (sorted), its units, start labels 0..region-1.

        With ``cluster_block`` the leader's own block's clusters come first.
        """
        from sklearn.cluster import kmeans_plusplus

        centres = cluster_means(X, labels, self.k)
        if not self.order:  # a new sweep: every cluster leads a region once, in a seeded order
            self.order = self.rng.permutation(self.k).tolist()
        pick = self.order.pop()
        dist = ((centres - centres[pick]) ** 2).sum(axis=1)
        if cluster_block is not None:
            dist = np.where(cluster_block == cluster_block[pick], dist, np.inf)
        near = np.sort(np.argsort(dist, kind="stable")[: self.region])
        units = np.flatnonzero(np.isin(labels, near))
        init, _ = kmeans_plusplus(X[units], self.region,
                                  random_state=int(self.rng.integers(2**31 - 1)))
        return near, units, np.argmin(_sq_dist(X[units], init), axis=1)


def regional_restarts(
    X: np.ndarray, labels: np.ndarray, k: int, min_size: int, max_size: int, *, seed: int,
    region: int = REGION_CLUSTERS, max_stall: int | None = None, max_work: int | None = None,
    deadline: float = math.inf, clock: Clock | None = None, frozen: np.ndarray | None = None,
    blocks: np.ndarray | None = None,
) -> tuple[np.ndarray, RegionStats]:
    """Re-cluster ``region`` neighbouring clusters from fresh k-means++ centres, keep gains.

    Why: the alternation ends in a local optimum that depends on its start
    (0.080–0.082 over KMeans inits at 3 300 units); k-means-constrained picks
    the best of ten whole-table starts. Restarting a region (its units, its
    cluster count, the same sizes — so the rest of the plan is untouched and
    every size still holds) is cheap, and gains in different regions add up.
    A try is kept only when the region's sum of squares drops. Regions are
    led by every cluster once per sweep, in an order drawn by a generator
    seeded with ``seed`` (deterministic; measured at 3 300 units over four
    seeds: 0.0779 mean against 0.0780 for independent draws); the search ends
    after ``max_stall`` tries in a row without gain (default: ``k``, a sweep),
    or when ``max_work`` is spent; ``deadline`` only stops, marked on ``clock``.
    Regions holding a ``frozen`` unit, or spanning two ``blocks``, are left as
    they are (:func:`search_regions`).
    """
    def try_region(units: np.ndarray, start: np.ndarray) -> tuple[np.ndarray | None, float]:
        result = flow_kmeans(X[units], start, region, min_size, max_size,
                             nearest=min(FLOW_NEAREST, region))
        work = len(units) * region + (result.work if result is not None else 0)
        return (result.labels if result is not None else None), work

    X = np.asarray(X, dtype=np.float64)
    region = min(region, k)
    # the draw (~12 ms a try at 50 000 units) is not charged here: S never meets the
    # clock in this phase (50 000 units: ~205 s of 600) and its plans were tuned without
    return search_regions(X, labels, k, region, seed, try_region,
                          stall_limit=k if max_stall is None else max_stall, max_work=max_work,
                          rate=REGION_WORK_PER_S, deadline=deadline, clock=clock, frozen=frozen,
                          blocks=blocks)


def search_regions(
    X: np.ndarray, labels: list[int] | np.ndarray, k: int, region: int, seed: int,
    try_region: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray | None, float]], *,
    stall_limit: int, max_work: float | None, rate: float, deadline: float = math.inf,
    clock: Clock | None = None, frozen: np.ndarray | None = None,
    blocks: np.ndarray | None = None, draw_work: float = 0.0,
) -> tuple[np.ndarray, RegionStats]:
    """The loop both regional restarts share: draw a region, re-cluster it, keep a gain.

    ``try_region(units, start)`` re-clusters the region's ``units`` from
    ``start`` (labels 0..region-1) and returns its labels, or None when it
    found no plan for them, with the work it spent. A try is kept only when
    the region's sum of squares drops (by more than :data:`REGION_MIN_GAIN`
    of the table's); the rest of the plan never changes. The search ends
    after ``stall_limit`` tries in a row without gain or when ``max_work``
    (charged on ``clock`` at ``rate``) is spent; ``deadline`` only stops it,
    marked on ``clock``. ``draw_work`` is charged for every draw (the whole
    table's cluster means, :class:`RegionPicker`), skipped tries included.

    A region holding a ``frozen`` unit (together / apart / fixed, placed by
    :func:`optimizer.local_search.place_locked`) is skipped as a try without
    gain: a restart would move it. Those runs skipped the restarts entirely
    (10 000 units, sizes 45–55, one `together` group: 558.0 against 517.3).
    With ``blocks`` (one code per unit, one_region / one_function; every
    cluster in one block) a region is drawn within its leader's block, and
    one that would span two (a block with fewer clusters than a region) is
    skipped the same way.
    """
    lab = np.asarray(labels, dtype=np.int64).copy()
    cluster_block = None if blocks is None else cluster_blocks(lab, blocks, k)
    picker = RegionPicker(k, region, seed)
    allowance = math.inf if max_work is None else max_work
    tries = kept = stall = 0
    spent = 0.0
    tol = REGION_MIN_GAIN * max(sse(X, np.zeros(len(X), dtype=np.int64), 1), 1e-12)
    # Ctrl-C hands over the plan with the gains kept so far (each written in one step)
    with carrying(lambda: lab):
        while region >= 2 and stall < stall_limit and spent < allowance:
            if must_stop(deadline, clock):
                break
            near, units, start = picker.draw(X, lab, cluster_block)
            mixed = cluster_block is not None and np.ptp(cluster_block[near]) > 0
            if mixed or (frozen is not None and frozen[units].any()):
                tries, stall = tries + 1, stall + 1
                spent += len(units) * region + draw_work
                continue
            new, work = try_region(units, start)
            tries += 1
            spent += work + draw_work
            sub = X[units]
            old = np.searchsorted(near, lab[units])
            if new is not None and sse(sub, new, region) < sse(sub, old, region) - tol:
                lab[units] = near[new]
                kept += 1
                stall = 0
            else:
                stall += 1
    if clock is not None:
        clock.charge(spent, rate)
    return lab, RegionStats(tries, kept, int(spent))


def best_of_starts(
    X: np.ndarray, seed_labels: list[int] | np.ndarray, k: int, min_size: int, max_size: int, *,
    seed: int, restarts: int = FLOW_RESTARTS, max_work: int | None = None,
    deadline: float = math.inf, clock: Clock | None = None,
) -> FlowResult | None:
    """The alternation from ``seed_labels``' means, then from k-means++ starts; the best.

    Why: where the alternation ends depends on its start (3 300 units, four
    k-means++ starts: 0.0785–0.0812); k-means-constrained keeps the best of ten.
    A restart runs only while less than half of ``max_work`` is spent, so the
    last one (about as costly as the first) stays within the allowance. The
    k-means++ generator is seeded from ``seed`` (deterministic).
    """
    from sklearn.cluster import kmeans_plusplus

    X = np.asarray(X, dtype=np.float64)
    allowance = math.inf if max_work is None else max_work
    try:
        best = flow_kmeans(X, seed_labels, k, min_size, max_size, max_work=max_work,
                           deadline=deadline, clock=clock)
    except RoundsInterrupted as cut:
        if cut.labels is None:
            raise
        raise StartInterrupted(np.asarray(cut.labels), 0.0) from None
    if best is None:
        return None
    spent, best_sse = best.work, sse(X, best.labels, k)
    extra = len(X) * k  # the k-means++ draw and first assignment of a restart
    try:
        for r in range(restarts):
            if spent > allowance / 2 or time.monotonic() >= deadline:
                break
            centres, _ = kmeans_plusplus(X, k, random_state=seed + r + 1)
            trial = flow_kmeans(X, np.argmin(_sq_dist(X, centres), axis=1), k, min_size,
                                max_size,
                                max_work=int(allowance - spent) if max_work is not None else None,
                                deadline=deadline, clock=clock)
            spent += (trial.work if trial is not None else 0) + extra
            if clock is not None:
                clock.charge(extra, FLOW_WORK_PER_S)
            if trial is not None and sse(X, trial.labels, k) < best_sse:
                best, best_sse = trial, sse(X, trial.labels, k)
    except KeyboardInterrupt:
        # Ctrl-C in a restart: the best alternation so far meets the sizes
        raise StartInterrupted(best.labels, 0.0) from None
    return dataclass_replace(best, work=spent)
