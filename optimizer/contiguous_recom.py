"""Recom moves of the contiguity-preserving search: merge touching clusters and re-cut them.

Why: single flips stall when a cluster must trade several units at once (a
heavy unit needs light neighbours from more than one cluster). GerryChain's
*recom* merges two districts and re-cuts a spanning tree of the union; here
small unions are cut every way the sizes allow, larger ones along spanning
trees, and a stuck cluster can be re-cut with two of its neighbours
(:meth:`Recoms.recom3`). :class:`Recoms` is a mixin of
``optimizer.contiguous_repair._Search``, whose state (``members``, ``lab``,
``X``, ``V``, ``pen``, ``move``, ``spent``…) it uses.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from optimizer.contiguous_graph import connected, connected_sets, tree_cuts

#: A recom cuts the union every way the sizes allow when that is at most this
#: many splits (300 units, sizes 5–7: unions of 10–14 units, ≤ 1 716 splits).
EXACT_SPLITS_MAX = 4_000
#: Split-mask entries (numpy, cheap) charged as one unit of work (about a microsecond).
MASK_ENTRIES_PER_WORK = 20
#: Work charged per unit of the union for each spanning tree (Kruskal in Python).
TREE_WORK_PER_UNIT = 10
#: At most this many best-scored splits of one recom are checked (connectivity,
#: rules): at 300 units all 1 716 splits of a 14-unit remainder met sizes and
#: bands, and the first connected one came after more than 64.
CHECK_MAX = 2_000
#: recom3: at most this many connected sets around the anchor are enumerated ...
CORE_ENUM_MAX = 3_000
#: Work charged per connected set enumerated (Python set operations).
CORE_WORK = 40
#: ... and the best this many (by penalty) get their remainder cut in two.
RECOM3_CORES = 30


class Recoms:
    """Recom moves over the search state of ``contiguous_repair._Search``."""

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
                found.append(tree_cuts(m, edges, w))
                self.spent += TREE_WORK_PER_UNIT * m
            masks = np.vstack(found)
        self.spent += masks.size // MASK_ENTRIES_PER_WORK + m
        if len(masks) == 0:
            return False
        c1 = masks.sum(axis=1)
        T1 = masks @ self.V[union]
        F1 = masks @ self.X[union]
        Fall, Tall = self.X[union].sum(axis=0), self.V[union].sum(axis=0)
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
                if not (connected(inside, local) and connected(np.flatnonzero(~masks[idx]), local)):
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
        cache = self.__dict__.setdefault("_mask_cache", {})
        if m in cache:  # sizes are fixed for a search: the splits depend on m only
            return cache[m]
        masks = np.zeros((count, m), dtype=bool)
        masks[:, 0] = True
        row = 0
        for s in range(low, high + 1):
            for rest in combinations(range(1, m), s - 1):
                masks[row, list(rest)] = True
                row += 1
        masks.flags.writeable = False
        cache[m] = masks
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
        inside = {union[p] for p in inside_pos}
        return self.side_ok(inside) and self.side_ok(set(union) - inside)

    def side_ok(self, side: set[int]) -> bool:
        """one_region / one_function hold within the units ``side``."""
        if self.regions is not None and len({self.regions[u] for u in side} - {None}) > 1:
            return False
        if self.functions is not None:
            sets = [self.functions[u] for u in side if self.functions[u]]
            if sets and not frozenset.intersection(*sets):
                return False
        return True

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
        cores = connected_sets(anchor, set(union), self.nb, self.min_size, self.max_size,
                                CORE_ENUM_MAX)
        self.spent += len(cores) * CORE_WORK
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
            self.spent += masks.size // MASK_ENTRIES_PER_WORK
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
                if not (connected(one, local) and connected(two, local)):
                    continue
                sides = [set(S), {rest[p] for p in one}, {rest[p] for p in two}]
                if not all(self.side_ok(side) for side in sides):
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
