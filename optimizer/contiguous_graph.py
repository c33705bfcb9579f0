"""Graph helpers for the contiguity-preserving search (:mod:`optimizer.contiguous_repair`).

Why a module of its own: these are pure functions on adjacency lists (unit
indices), tested against brute force, and small-module size keeps the search
readable.
"""

from __future__ import annotations

import numpy as np


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


def reach(start: int, allowed: set[int], neighbors) -> set[int]:
    """Units of ``allowed`` reachable from ``start`` through ``allowed`` (``start`` included)."""
    seen = {start}
    stack = [start]
    while stack:
        for v in neighbors[stack.pop()]:
            if v in allowed and v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


def pieces(nodes: set[int], neighbors) -> int:
    """Connected pieces of the subgraph induced by ``nodes``."""
    seen: set[int] = set()
    count = 0
    for s in sorted(nodes):
        if s not in seen:
            count += 1
            seen |= reach(s, nodes, neighbors)
    return count


def tree_cuts(m: int, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
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


def connected_sets(anchor: int, allowed: set[int], neighbors, low: int, high: int,
                    cap: int) -> list[list[int]]:
    """Connected subsets of ``allowed`` holding ``anchor`` with ``low``..``high`` units (≤ ``cap``).

    Each set is listed once: a branch adds one frontier unit and bars the
    frontier units before it for good (reverse search over connected sets).
    """
    return _enumerate_connected(anchor, allowed, neighbors, low, high, cap)[0]


def _enumerate_connected(anchor: int, allowed: set[int], neighbors, low: int, high: int,
                         cap: int, max_work: int | None = None) -> tuple[list[list[int]], bool]:
    """:func:`connected_sets`, stopped after ``max_work`` set members copied; and whether it listed them all."""
    found: list[list[int]] = []
    start = frozenset(v for v in neighbors[anchor] if v in allowed and v != anchor)
    stack = [((anchor,), start, frozenset((anchor,)))]
    work = 0
    while stack and len(found) < cap:
        if max_work is not None and work >= max_work:
            return found, False
        current, frontier, barred = stack.pop()
        # each branch below copies about this many set members
        work += 1 + len(frontier) * (len(frontier) + len(barred) + len(current))
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
    return found, not stack


def connected(nodes: np.ndarray, local: list[list[int]]) -> bool:
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


#: Set members the exact listing in :func:`lightest_connected_total` may copy
#: before it settles for the looser bound: the listing grows fast with the set
#: size, and the precheck runs before the time limit's clock (5 000 sample
#: units, unbounded: sets of 90 ~0.4 s an anchor, sets of 500 ~14 s).
ENUMERATION_WORK = 2_000_000


def lightest_connected_total(anchor: int, neighbors, values: np.ndarray, size: int,
                             cap: int = 20_000) -> float:
    """A lower bound on the total of ``values`` over any connected set of ``size`` units holding ``anchor``.

    Why: under contiguity a heavy unit must share its cluster with at least
    ``min_size - 1`` *connected* neighbours, so its cluster can be far heavier
    than the unit alone — at 300 sample units (50 clusters of 5–7) the
    heaviest unit is 1.61× the mean population but every connected 5-set
    around it is ≥ 1.87× the mean, so ±75 % is infeasible while a size-free
    check says ±61 % could do. Exact (enumeration) when there are at most
    ``cap`` such sets and :data:`ENUMERATION_WORK` lists them all;
    otherwise the anchor plus the ``size - 1`` lightest units within
    ``size - 1`` steps, which every such set's total exceeds.
    """
    if size <= 1:
        return float(values[anchor])
    reach = {anchor}
    frontier = [anchor]
    for _ in range(size - 1):
        # each unit enters the frontier once (with repeats the list grew level by
        # level: 99 s for five anchors at 5 000 units, min_size 90)
        grown = []
        for u in frontier:
            for v in neighbors[u]:
                if v not in reach:
                    reach.add(v)
                    grown.append(v)
        frontier = grown
        if not frontier:
            break
    if len(reach) < size:
        return float("inf")  # no connected set of that size: the anchor cannot be covered at all
    sets, complete = _enumerate_connected(anchor, reach, neighbors, size, size, cap + 1,
                                          max_work=ENUMERATION_WORK)
    if complete and sets:
        return float(min(values[s].sum() for s in sets))
    others = np.sort(np.asarray([values[v] for v in reach if v != anchor], dtype=np.float64))
    return float(values[anchor] + others[: size - 1].sum())
