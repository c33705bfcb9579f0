"""Large tables under contiguity: a local search that never disconnects a cluster.

Why: the balanced start and the local search of :mod:`optimizer.lns` ignore
the adjacency graph, so under ``contiguous`` the restricted CP-SAT model had to
find sizes and bands from the connected seed alone — and at 300 units in 50
clusters it found no plan in 8 s. Districting tools solve the same problem by
local moves that keep every district connected (GerryChain's *flip* and
*recom* proposals, spopt's AZP): here

1. **Feasibility** — a boundary unit moves to a touching cluster only when its
   own cluster stays connected without it (it is not an articulation point of
   the cluster's induced subgraph; Tarjan, recomputed only for clusters that
   changed). Moves are chosen to lower a squared violation of sizes and
   balance bands (squared, so spreading an excess over two clusters already
   counts as progress: it then drifts to a cluster with room). When no single
   flip helps, *recom* (:mod:`optimizer.contiguous_recom`): two touching
   clusters are merged and re-cut — every way the sizes allow when the union
   is small, else along the edges of random spanning trees (both sides are
   subtrees, hence connected); then pair moves (one unit in, one out); then a
   violated cluster is re-cut with two of its neighbours around its heaviest
   unit.
2. **Dispersion** — the same flips and recoms (trees from feature distances,
   as SKATER) lower the within-cluster sum of squares with exact centroid
   deltas, never leaving the feasible set.

Units under together / apart / fixed never move (and recom skips their
clusters); one_region and one_function are kept by every move. Whatever the
search cannot fix is returned as the violation; ``check_plan`` has the last
word. Determinism: fixed visiting order, a generator seeded from
``settings.seed``, and a work allowance (evaluations, see
:data:`CONTIG_WORK_PER_S`); the wall clock is only a safety stop, recorded on
``clock``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from optimizer.budget import Clock, work
from optimizer.contiguous_graph import articulation_points, pieces
from optimizer.contiguous_recom import Recoms
from optimizer.data import ModelData
from optimizer.local_search import locked_units
from optimizer.problem import Problem
from optimizer.repair import BAND_MARGIN

#: Work units per nominal second. A unit is about a microsecond of this search
#: (flip evaluation :data:`FLIP_WORK`, recom costs in :mod:`optimizer.contiguous_recom`).
#: Measured on the shared 2-core machine, loaded: 7.9e5–1.35e6/s at 300 units /
#: 50 clusters (±75 %, ±90 %, ±100 %), 7.8e5/s at 1 000 / 100 (±50 %); kept below.
CONTIG_WORK_PER_S = 5.0e5
#: Work charged per flip evaluated (numpy penalty of two clusters and the SSE delta).
FLIP_WORK = 25
#: Share of the count's nominal time for this search; the restricted model and
#: LNS get the rest. 300 units/50 clusters, ±75 %: the search ends on its own
#: (no gain left) well within half of 8 s.
CONTIG_SHARE = 0.5
#: Random spanning trees tried per recom while fixing sizes and bands.
FIX_TREES = 12
#: When stuck, recoms and pair moves are tried around this many of the worst clusters.
STUCK_CLUSTERS = 8
#: Spanning trees per recom while lowering dispersion (the first by feature distance).
SSE_TREES = 3
#: Gains smaller than this (relative to the total sum of squares) are ignored.
MIN_GAIN = 1e-9


@dataclass(frozen=True, slots=True)
class ContiguousStats:
    """What the search did: flips, recoms, violation and sum of squares before/after, work."""

    flips: int
    recoms: int
    violation_before: float
    violation_after: float
    sse_before: float
    sse_after: float
    work: int


def contiguous_start(
    problem: Problem, data: ModelData, k: int, labels: list[int], *,
    nominal_s: float, deadline: float, clock: Clock | None = None,
) -> tuple[list[int], float, ContiguousStats]:
    """:func:`repair_contiguous` with :data:`CONTIG_SHARE` of ``nominal_s`` as its allowance."""
    allowance = work(CONTIG_SHARE * nominal_s, CONTIG_WORK_PER_S)
    return repair_contiguous(problem, data, k, labels, max_work=allowance,
                             deadline=deadline, clock=clock)


def repair_contiguous(
    problem: Problem, data: ModelData, k: int, labels: list[int], *,
    max_work: int | None = None, deadline: float | None = None, clock: Clock | None = None,
) -> tuple[list[int], float, ContiguousStats]:
    """Flips and recoms that keep clusters connected: rules first, then dispersion.

    Returns the labels, the violation left (size units out of bounds + band
    excess in means + extra pieces of disconnected clusters; 0.0 when sizes,
    bands and connectivity hold) and statistics. Needs ``data.neighbors``.
    """
    search = _Search(problem, data, k, labels, max_work, deadline, clock)
    before_v, before_sse = search.violation(), search.sse()
    search.fix()
    search.improve()
    if clock is not None:
        clock.charge(search.spent, CONTIG_WORK_PER_S)
    after_v = search.violation()
    stats = ContiguousStats(search.flips, search.recoms, before_v, after_v, before_sse,
                            search.sse(), search.spent)
    return search.lab.tolist(), after_v, stats


class _Search(Recoms):
    """Plan state (members, sums, totals) with cached articulation points per cluster."""

    def __init__(self, problem, data, k, labels, max_work, deadline, clock) -> None:
        assert data.neighbors is not None, "contiguity needs the adjacency graph"
        rules = problem.rules
        self.nb = data.neighbors
        self.X = np.asarray(problem.features.values, dtype=np.float64)
        self.sq = np.einsum("ij,ij->i", self.X, self.X)
        self.lab = np.asarray(labels, dtype=np.int64).copy()
        n = len(self.lab)
        self.k = k
        if data.balance:
            self.V = np.column_stack([np.nan_to_num(c.values) for c in data.balance])
            mean = np.array([abs(c.values.sum()) / k or 1.0 for c in data.balance])
            bands = [c.band(k) for c in data.balance]
            self.lo = np.array([b[0] for b in bands]) + BAND_MARGIN * mean
            self.hi = np.array([b[1] for b in bands]) - BAND_MARGIN * mean
            self.mean = mean
        else:
            self.V = np.zeros((n, 0))
            self.lo = self.hi = self.mean = np.zeros(0)
        self.min_size, self.max_size = rules.min_size or 1, rules.max_size or n
        self.free = ~locked_units(data)
        self.regions = data.regions if data.one_region else None
        self.functions = data.functions if data.one_function else None
        self.members = [set(np.flatnonzero(self.lab == c).tolist()) for c in range(k)]
        self.sums = np.zeros((k, self.X.shape[1]))
        np.add.at(self.sums, self.lab, self.X)
        self.tot = np.zeros((k, self.V.shape[1]))
        np.add.at(self.tot, self.lab, self.V)
        self.size = np.bincount(self.lab, minlength=k).astype(np.int64)
        self.art: list[set[int] | None] = [None] * k
        total = float(self.sq.sum() - (self.X.sum(axis=0) ** 2).sum() / max(n, 1))
        self.tol = MIN_GAIN * max(total, 1e-12)
        self.rng = np.random.default_rng(problem.settings.seed)
        self.allowance = np.inf if max_work is None else max_work
        self.deadline, self.clock = deadline, clock
        self.spent = self.flips = self.recoms = 0
        self.problem, self.data = problem, data

    # --- measures -------------------------------------------------------------
    def excess(self, s, t) -> tuple[float, np.ndarray]:
        """Size units out of bounds and band excess per column in means (vectorised over rows)."""
        s = np.asarray(s)
        e = np.maximum(0, np.maximum(self.min_size - s, s - self.max_size)).astype(float)
        b = np.maximum(0.0, np.maximum(self.lo - t, t - self.hi)) / np.where(self.mean > 0, self.mean, 1)
        return e, b

    def pen(self, s, t) -> np.ndarray:
        """Squared violation of clusters with sizes ``s`` and totals ``t`` (rows)."""
        e, b = self.excess(s, t)
        return e * e + (b * b).sum(axis=-1)

    def violation(self) -> float:
        """Sizes and bands out of bounds (linear) plus extra pieces of disconnected clusters."""
        e, b = self.excess(self.size, self.tot)
        extra = sum(pieces(m, self.nb) - 1 for m in self.members if m)
        return float(e.sum() + b.sum() + extra)

    def sse(self) -> float:
        return float(self.sq.sum() - (np.einsum("ij,ij->i", self.sums, self.sums)
                                      / np.maximum(self.size, 1)).sum())

    def exhausted(self) -> bool:
        """Allowance used (decides) or the safety clock passed (only stops, recorded)."""
        if self.spent >= self.allowance:
            return True
        if self.deadline is not None and time.monotonic() >= self.deadline:
            if self.clock is not None:
                self.clock.mark()
            return True
        return False

    # --- moves ---------------------------------------------------------------
    def articulation(self, c: int) -> set[int]:
        if self.art[c] is None:
            self.spent += 4 * len(self.members[c])
            self.art[c] = articulation_points(self.members[c], self.nb)
        return self.art[c]

    def fits(self, unit: int, c: int) -> bool:
        """one_region / one_function still hold if ``unit`` joins cluster ``c``."""
        region = None if self.regions is None else self.regions[unit]
        if region is not None and any(self.regions[j] not in (None, region) for j in self.members[c]):
            return False
        if self.functions is not None and self.functions[unit]:
            common = frozenset(self.functions[unit])
            for j in self.members[c]:
                if self.functions[j]:
                    common &= self.functions[j]
            if not common:
                return False
        return True

    def flips_of(self, i: int) -> list[tuple[float, float, int]]:
        """Allowed flips of unit ``i``: (penalty change, SSE change, target cluster)."""
        a = int(self.lab[i])
        if not self.free[i] or self.size[a] <= 1 or i in self.articulation(a):
            return []
        targets = sorted({int(self.lab[u]) for u in self.nb[i]} - {a})
        out = []
        x, V = self.X[i], self.V[i]
        na, Sa = self.size[a], self.sums[a]
        old_a = self.pen(na, self.tot[a])
        new_a = self.pen(na - 1, self.tot[a] - V)
        gain_a = float(Sa @ Sa) / na - float((Sa - x) @ (Sa - x)) / (na - 1)
        for b in targets:
            self.spent += FLIP_WORK
            if not self.fits(i, b):
                continue
            nb_, Sb = self.size[b], self.sums[b]
            dpen = float(new_a + self.pen(nb_ + 1, self.tot[b] + V) - old_a
                         - self.pen(nb_, self.tot[b]))
            dsse = gain_a + float(Sb @ Sb) / nb_ - float((Sb + x) @ (Sb + x)) / (nb_ + 1)
            out.append((dpen, dsse, b))
        return out

    def move(self, i: int, b: int) -> None:
        a = int(self.lab[i])
        self.lab[i] = b
        self.members[a].discard(i)
        self.members[b].add(i)
        self.sums[a] -= self.X[i]
        self.sums[b] += self.X[i]
        self.tot[a] -= self.V[i]
        self.tot[b] += self.V[i]
        self.size[a] -= 1
        self.size[b] += 1
        self.art[a] = self.art[b] = None

    def touching(self, c: int) -> list[int]:
        """Clusters sharing an edge with cluster ``c`` (sorted)."""
        return sorted({int(self.lab[u]) for i in self.members[c] for u in self.nb[i]} - {c})

    # --- phase 1: sizes and bands ---------------------------------------------
    def fix(self) -> None:
        """Lower the squared violation until it is 0 or nothing helps.

        The worst cluster with an improving flip (its own units out, touching
        units in) takes its best one; when none has, recoms, pair moves and
        three-cluster re-cuts around the worst clusters, in that order.
        """
        while not self.exhausted():
            cpen = self.pen(self.size, self.tot)
            bad = [int(c) for c in np.argsort(-cpen, kind="stable") if cpen[c] > 0]
            if not bad:
                return
            if any(self.best_flip(a) for a in bad):
                continue
            if any(self.recom(a, b, FIX_TREES, by_sse=False)
                   for a in bad[:STUCK_CLUSTERS] for b in self.touching(a)):
                continue
            if any(self.pair_move(a) for a in bad[:STUCK_CLUSTERS]):
                continue
            if not any(self.recom3(a) for a in bad[:STUCK_CLUSTERS]):
                return

    def best_flip(self, a: int) -> bool:
        """Apply the flip into or out of ``a`` that lowers the violation most (SSE breaks ties)."""
        units = set(self.members[a])
        for b in self.touching(a):
            units |= {j for j in self.members[b] if any(self.lab[u] == a for u in self.nb[j])}
        best = None
        for i in sorted(units):
            for dpen, dsse, b in self.flips_of(i):
                key = (dpen, dsse, i, b)
                if dpen < -1e-12 and (best is None or key < best):
                    best = key
        if best is None:
            return False
        self.move(best[2], best[3])
        self.flips += 1
        return True

    def pair_move(self, a: int) -> bool:
        """Two flips at once: a unit joins violated ``a``, then another leaves it.

        Why: a cluster at its minimum size and above its band must swap a
        heavy unit for a light one, and each flip alone is refused (the first
        raises the band excess, the second breaks the minimum size).
        """
        old = float(self.pen(self.size, self.tot).sum())
        entering = sorted({j for b in self.touching(a) for j in self.members[b]
                           if any(self.lab[u] == a for u in self.nb[j])})
        best = None
        for j in entering:
            if self.exhausted():
                break
            for _, _, dst in self.flips_of(j):
                if dst != a:
                    continue
                src = int(self.lab[j])
                self.move(j, a)
                for i in sorted(self.members[a] - {j}):
                    for _, dsse, b in self.flips_of(i):
                        self.move(i, b)
                        new = float(self.pen(self.size, self.tot).sum())
                        self.move(i, a)
                        key = (new - old, dsse, j, i, b)
                        if new < old - 1e-12 and (best is None or key < best):
                            best = key
                self.move(j, src)
        if best is None:
            return False
        self.move(best[2], a)
        self.move(best[3], best[4])
        self.flips += 2
        return True

    # --- phase 2: dispersion --------------------------------------------------
    def improve(self) -> None:
        """Flips and recoms lowering the sum of squares while sizes and bands hold."""
        if float(self.pen(self.size, self.tot).sum()) > 0:
            return
        while not self.exhausted():
            gained = False
            for i in range(len(self.lab)):
                if self.exhausted():
                    return
                opts = [(dsse, b) for dpen, dsse, b in self.flips_of(i)
                        if dpen <= 0 and dsse < -self.tol and self.feasible_after(i, b)]
                if opts:
                    self.move(i, min(opts)[1])
                    self.flips += 1
                    gained = True
            for a in range(self.k):
                for b in self.touching(a):
                    if b > a and not self.exhausted() and self.recom(a, b, SSE_TREES, by_sse=True):
                        gained = True
            if not gained:
                return

    def feasible_after(self, i: int, b: int) -> bool:
        a = int(self.lab[i])
        V = self.V[i]
        return float(self.pen(self.size[a] - 1, self.tot[a] - V)
                     + self.pen(self.size[b] + 1, self.tot[b] + V)) == 0.0

    # --- recom ---------------------------------------------------------------
