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
   flip helps, *recom*: two touching clusters are merged and re-cut along an
   edge of a random spanning tree of their union (both sides are subtrees,
   hence connected), the best cut kept.
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
from itertools import combinations
from math import comb

import numpy as np

from optimizer.budget import Clock, work
from optimizer.data import ModelData
from optimizer.local_search import locked_units
from optimizer.problem import Problem
from optimizer.repair import BAND_MARGIN

#: Work units (move evaluations, articulation visits, recom tree nodes) per
#: nominal second. Measured on the shared 2-core machine, loaded: 1.0e5/s at
#: 300 units / 50 clusters, 2.2e5/s at 1 000 / 100; the lower one kept.
CONTIG_WORK_PER_S = 3.0e5
#: Share of the count's nominal time for this search; the restricted model and
#: LNS get the rest. 300 units/50 clusters, ±75 %: the search ends on its own
#: (no gain left) well within half of 8 s.
CONTIG_SHARE = 0.5
#: Random spanning trees tried per recom while fixing sizes and bands.
FIX_TREES = 12
#: A recom cuts the union every way the sizes allow when that is at most this
#: many splits (300 units, sizes 5–7: unions of 10–14 units, ≤ 1 716 splits).
EXACT_SPLITS_MAX = 4_000
#: At most this many best-scored splits of one recom are checked (connectivity,
#: rules): at 300 units all 1 716 splits of a 14-unit remainder met sizes and
#: bands, and the first connected one came after more than 64.
CHECK_MAX = 2_000
#: recom3: at most this many connected sets around the anchor are enumerated ...
CORE_ENUM_MAX = 3_000
#: ... and the best this many (by penalty) get their remainder cut in two.
RECOM3_CORES = 30
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


def articulation_points(nodes: set[int], neighbors) -> set[int]:
    """Units of ``nodes`` whose removal splits their piece of the induced subgraph (Tarjan)."""
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    art: set[int] = set()
    t = 0
    for root in sorted(nodes):
        if root in disc:
            continue
        disc[root] = low[root] = t
        t += 1
        children = 0
        stack = [(root, -1, iter(neighbors[root]))]
        while stack:
            v, parent, it = stack[-1]
            for u in it:
                if u not in nodes:
                    continue
                if u not in disc:
                    disc[u] = low[u] = t
                    t += 1
                    stack.append((u, v, iter(neighbors[u])))
                    break
                if u != parent:
                    low[v] = min(low[v], disc[u])
            else:
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    low[p] = min(low[p], low[v])
                    if len(stack) == 1:
                        children += 1
                    elif low[v] >= disc[p]:
                        art.add(p)
        if children > 1:
            art.add(root)
    return art


def _pieces(nodes: set[int], neighbors) -> int:
    """Connected pieces of the subgraph induced by ``nodes``."""
    seen: set[int] = set()
    count = 0
    for s in sorted(nodes):
        if s in seen:
            continue
        count += 1
        seen.add(s)
        stack = [s]
        while stack:
            for u in neighbors[stack.pop()]:
                if u in nodes and u not in seen:
                    seen.add(u)
                    stack.append(u)
    return count


class _Search:
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
        pieces = sum(_pieces(m, self.nb) - 1 for m in self.members if m)
        return float(e.sum() + b.sum() + pieces)

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
        if self.regions is not None and self.regions[unit] is not None:
            if any(self.regions[j] not in (None, self.regions[unit]) for j in self.members[c]):
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
            self.spent += 1
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
        """Lower the squared violation by flips, then recoms, until it is 0 or nothing helps."""
        while not self.exhausted():
            cpen = self.pen(self.size, self.tot)
            bad = [int(c) for c in np.argsort(-cpen, kind="stable") if cpen[c] > 0]
            if not bad:
                return
            best = None
            for a in bad:
                units = set(self.members[a])
                for b in self.touching(a):
                    units |= {j for j in self.members[b] if any(self.lab[u] == a for u in self.nb[j])}
                for i in sorted(units):
                    for dpen, dsse, b in self.flips_of(i):
                        key = (dpen, dsse, i, b)
                        if dpen < -1e-12 and (best is None or key < best):
                            best = key
            if best is not None:
                self.move(best[2], best[3])
                self.flips += 1
                continue
            if any(self.recom(a, b, FIX_TREES, by_sse=False)
                   for a in bad[:STUCK_CLUSTERS] for b in self.touching(a)):
                continue
            if any(self.pair_move(a) for a in bad[:STUCK_CLUSTERS]):
                continue
            if not any(self.recom3(a) for a in bad[:STUCK_CLUSTERS]):
                return

    def recom3(self, a: int) -> bool:
        """Re-cut violated ``a`` with two clusters it touches: a new ``a`` around its anchor, the rest split in two.

        Why: a heavy unit may need light neighbours from several clusters at
        once (300 units, ±100 %: unit 247 at 1.61× the mean; its lightest
        connected 5-set spans four clusters), which no improving flip or
        pairwise recom reaches. The new ``a`` is a connected set holding
        ``a``'s heaviest (or, under the band, lightest) unit, the best
        :data:`RECOM3_CORES` of them by penalty are tried, and each remainder is
        cut exactly in two (:meth:`exact_masks`).
        """
        if self.V.shape[1]:
            over = bool((self.tot[a] > self.hi).any())
            col = int(np.argmax(np.maximum(self.tot[a] - self.hi, self.lo - self.tot[a])))
            mem = sorted(self.members[a], key=lambda u: (-self.V[u, col] if over else self.V[u, col], u))
            anchor = mem[0]
        else:
            anchor = min(self.members[a])
        touching = self.touching(a)
        for i, b in enumerate(touching):
            for c in touching[i + 1:]:
                if self.exhausted():
                    return False
                if self.resplit3(a, b, c, anchor):
                    return True
        return False

    def resplit3(self, a: int, b: int, c: int, anchor: int) -> bool:
        union = sorted(self.members[a] | self.members[b] | self.members[c])
        if not self.free[union].all():
            return False
        old = float(sum(self.pen(self.size[x], self.tot[x]) for x in (a, b, c)))
        cores = _connected_sets(anchor, set(union), self.nb, self.min_size, self.max_size,
                                CORE_ENUM_MAX)
        self.spent += len(cores) * 4
        whole, mean = self.V[union].sum(axis=0), np.where(self.mean > 0, self.mean, 1)

        def rank(S: list[int]) -> tuple[float, float, float, list[int]]:
            # own penalty, then the remainder as two average clusters, then closeness to the mean
            own, rest = self.V[S].sum(axis=0), (len(union) - len(S)) / 2
            pa = float(self.pen(len(S), own))
            return (pa + 2 * float(self.pen(rest, (whole - own) / 2)),
                    float((np.abs(own - self.mean) / mean).sum()), pa, S)

        scored = sorted(rank(S) for S in cores)
        for _, _, pa, S in scored[:RECOM3_CORES]:
            if pa >= old - 1e-12:
                continue
            rest = [u for u in union if u not in set(S)]
            masks = self.exact_masks(len(rest))
            if masks is None:
                continue
            self.spent += masks.size // 4
            T1 = masks @ self.V[rest]
            c1 = masks.sum(axis=1)
            pen = pa + self.pen(c1, T1) + self.pen(len(rest) - c1, self.V[rest].sum(axis=0) - T1)
            pos = {u: p for p, u in enumerate(rest)}
            local = [[pos[v] for v in self.nb[u] if v in pos] for u in rest]
            F1 = masks @ self.X[rest]
            F2 = self.X[rest].sum(axis=0) - F1
            sse = -(np.einsum("ij,ij->i", F1, F1) / c1 + np.einsum("ij,ij->i", F2, F2) / (len(rest) - c1))
            for idx in np.lexsort((sse, pen))[:CHECK_MAX]:
                if pen[idx] >= old - 1e-12:
                    break
                self.spent += len(rest)
                one, two = np.flatnonzero(masks[idx]), np.flatnonzero(~masks[idx])
                if not (_connected(one, local) and _connected(two, local)):
                    continue
                sides = [set(S), {rest[p] for p in one}, {rest[p] for p in two}]
                if not all(self.sides_fit(union, [union.index(u) for u in side]) for side in sides[1:]) \
                        or not self.sides_fit(union, [union.index(u) for u in S]):
                    continue
                for side, target in zip(sides, (a, *self.best_labels(sides[1:], b, c))):
                    for u in side:
                        if self.lab[u] != target:
                            self.move(u, target)
                self.recoms += 1
                return True
        return False

    def best_labels(self, sides: list[set[int]], b: int, c: int) -> tuple[int, int]:
        """Labels for two new sides: keep the larger overlap with ``b``."""
        if len(sides[0] & self.members[b]) >= len(sides[1] & self.members[b]):
            return b, c
        return c, b

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
    def recom(self, a: int, b: int, trees: int, *, by_sse: bool) -> bool:
        """Merge touching clusters ``a`` and ``b`` and re-cut the union if that helps.

        Small unions are cut every way the sizes allow (both sides checked
        connected); larger ones along the edges of ``trees`` spanning trees
        (random, the first by feature distance when lowering dispersion) —
        each side of a tree cut is a subtree, hence connected.
        """
        union = sorted(self.members[a] | self.members[b])
        if not self.free[union].all():
            return False
        m = len(union)
        pos = {u: p for p, u in enumerate(union)}
        local = [[pos[v] for v in self.nb[u] if v in pos] for u in union]
        masks = self.exact_masks(m)
        exact = masks is not None
        if masks is None:
            edges = np.array([(p, q) for p in range(m) for q in local[p] if q > p],
                             dtype=np.int64).reshape(-1, 2)
            Xu = self.X[union]
            found = []
            for t in range(trees):
                w = (((Xu[edges[:, 0]] - Xu[edges[:, 1]]) ** 2).sum(axis=1) if by_sse and t == 0
                     else self.rng.random(len(edges)))
                found.append(_tree_cuts(m, edges, w))
            masks = np.vstack(found)
        self.spent += masks.size // 4 + m
        c1 = masks.sum(axis=1)
        T1 = masks @ self.V[union]
        F1 = masks @ self.X[union]
        Fall, Tall = F1[0] * 0 + self.X[union].sum(axis=0), self.V[union].sum(axis=0)
        pen = self.pen(c1, T1) + self.pen(m - c1, Tall - T1)
        F2 = Fall - F1
        sse = -(np.einsum("ij,ij->i", F1, F1) / c1 + np.einsum("ij,ij->i", F2, F2) / (m - c1))
        old_pen = float(self.pen(self.size[a], self.tot[a]) + self.pen(self.size[b], self.tot[b]))
        old_sse = -(float(self.sums[a] @ self.sums[a]) / self.size[a]
                    + float(self.sums[b] @ self.sums[b]) / self.size[b])
        if by_sse:
            keys, limit = np.where(pen > 0, np.inf, sse), old_sse - self.tol
        else:
            keys, limit = pen, old_pen - 1e-12
        order = np.lexsort((sse, keys))
        for idx in order[:CHECK_MAX]:
            if keys[idx] >= limit:
                return False
            inside = np.flatnonzero(masks[idx])
            if exact:
                self.spent += m
                if not (_connected(inside, local) and _connected(np.flatnonzero(~masks[idx]), local)):
                    continue
            if self.sides_fit(union, inside.tolist()):
                self.apply_split(a, b, union, {union[p] for p in inside})
                return True
        return False

    def exact_masks(self, m: int) -> np.ndarray | None:
        """Every split of ``m`` units (first unit on side one) both sides' sizes allow, or None."""
        low = max(self.min_size, m - self.max_size, 1)
        high = min(self.max_size, m - self.min_size, m - 1)
        if low > high:
            return None
        count = sum(comb(m - 1, s - 1) for s in range(low, high + 1))
        if count > EXACT_SPLITS_MAX:
            return None
        masks = np.zeros((count, m), dtype=bool)
        masks[:, 0] = True
        row = 0
        for s in range(low, high + 1):
            for rest in combinations(range(1, m), s - 1):
                masks[row, list(rest)] = True
                row += 1
        return masks

    def apply_split(self, a: int, b: int, union: list[int], inside: set[int]) -> None:
        """Give ``inside`` to whichever of ``a``/``b`` it overlaps more, the rest to the other."""
        keep_a = len(inside & self.members[a]) >= len(inside - self.members[a])
        for u in union:
            target = (a if keep_a else b) if u in inside else (b if keep_a else a)
            if self.lab[u] != target:
                self.move(u, target)
        self.recoms += 1

    def sides_fit(self, union: list[int], inside_pos: list[int]) -> bool:
        """one_region / one_function hold on both sides of a recom cut."""
        if self.regions is None and self.functions is None:
            return True
        inside = {union[p] for p in inside_pos}
        for side in (inside, set(union) - inside):
            if self.regions is not None and len({self.regions[u] for u in side} - {None}) > 1:
                return False
            if self.functions is not None:
                sets = [self.functions[u] for u in side if self.functions[u]]
                if sets and not frozenset.intersection(*sets):
                    return False
        return True


def _tree_cuts(m: int, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Sides of every edge cut of the minimum spanning tree (Kruskal, weights ``w``): masks."""
    root = list(range(m))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    adj: list[list[int]] = [[] for _ in range(m)]
    for e in np.argsort(w, kind="stable").tolist():
        u, v = int(edges[e, 0]), int(edges[e, 1])
        ru, rv = find(u), find(v)
        if ru != rv:
            root[ru] = rv
            adj[u].append(v)
            adj[v].append(u)
    parent = [-1] * m
    order = [0]
    for v in order:
        for u in adj[v]:
            if u != parent[v] and u != 0 and parent[u] == -1:
                parent[u] = v
                order.append(u)
    below = np.eye(m, dtype=bool)
    for v in order[:0:-1]:
        below[parent[v]] |= below[v]
    return below[order[1:]] if len(order) == m else np.zeros((0, m), dtype=bool)


def _connected_sets(anchor: int, allowed: set[int], neighbors, low: int, high: int,
                    cap: int) -> list[list[int]]:
    """Connected subsets of ``allowed`` holding ``anchor`` with ``low``..``high`` units (≤ ``cap``).

    Each set is listed once: a branch adds one frontier unit and bars the
    frontier units before it for good (reverse search over connected sets).
    """
    found: list[list[int]] = []
    start = frozenset(v for v in neighbors[anchor] if v in allowed and v != anchor)
    stack = [((anchor,), start, frozenset((anchor,)))]
    while stack and len(found) < cap:
        current, frontier, barred = stack.pop()
        if low <= len(current) <= high:
            found.append(sorted(current))
        if len(current) >= high:
            continue
        order = sorted(frontier)
        branches = []
        for i, w in enumerate(order):
            bar = barred | frozenset(order[:i + 1]) | frozenset(current)
            grown = (frontier - frozenset(order[:i + 1])) | frozenset(
                v for v in neighbors[w] if v in allowed and v not in bar)
            branches.append(((*current, w), grown, barred | frozenset(order[:i])))
        stack.extend(reversed(branches))
    return found


def _connected(nodes: np.ndarray, local: list[list[int]]) -> bool:
    """Whether positions ``nodes`` induce a connected subgraph (``local`` adjacency)."""
    if len(nodes) == 0:
        return False
    inside = set(nodes.tolist())
    seen = {int(nodes[0])}
    stack = [int(nodes[0])]
    while stack:
        for u in local[stack.pop()]:
            if u in inside and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(inside)
