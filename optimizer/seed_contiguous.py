"""Contiguous seeds: connected clusters of near-equal size in the adjacency graph.

Why not Ward alone: agglomeration restricted to the graph keeps clusters
connected, but its sizes are very uneven (1 to 66 units for 700 units in 50
clusters), and a hint that breaks ``min_size``/``max_size`` is mostly wasted on
the solver. So Ward is kept when its sizes fit, and otherwise a minimum
spanning tree of the graph is cut recursively into balanced subtrees (as in
SKATER, with sizes controlled), then a border repair shifts single units along
chains of touching clusters until every size fits, never disconnecting one.
Measured on synthetic tables with sizes ``[n/K - 1, n/K + 1]``: exact sizes at
700/50, 3 300/100, 10 000/200 and 50 000/500 units/clusters (0.1 / 0.8 / 1.9 /
~19 s).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import minimum_spanning_tree
from sklearn.cluster import AgglomerativeClustering

from features.graph import components

#: With size bounds, Ward is tried only on components up to this size: its
#: clusters are very uneven (1 to 66 units for 700 units in 50 clusters), so on
#: big tables it is almost always discarded for the spanning-tree bisection.
WARD_MAX_UNITS = 5_000

#: The cluster adjacency used to route size repairs is rebuilt after this many
#: repairs (or when one gets stuck); a stale edge only costs a failed attempt.
REFRESH_EVERY = 32


def contiguous_labels(
    graph: nx.Graph,
    unit_ids: tuple[str, ...],
    x: np.ndarray,
    k: int,
    low: int = 0,
    high: int | None = None,
) -> np.ndarray:
    """Connected clusters inside each graph component, clusters shared by size.

    Ward agglomeration on the graph first (most homogeneous); when its sizes
    break ``[low, high]``, balanced bisection of a minimum spanning tree instead.
    """
    comps = components(graph)
    row = {u: i for i, u in enumerate(unit_ids)}
    labels = np.zeros(len(unit_ids), dtype=np.int64)
    if len(comps) > k:  # contiguity is impossible; merge components by size
        sizes = np.zeros(k, dtype=np.int64)
        for comp in comps:
            target = int(np.argmin(sizes))
            labels[[row[u] for u in comp]] = target
            sizes[target] += len(comp)
        return labels
    shares = allocate([len(c) for c in comps], k)
    offset = 0
    for comp, share in zip(comps, shares):
        members = sorted(comp, key=row.__getitem__)
        idx = np.array([row[u] for u in members])
        bounded = low > 0 or (high is not None and high < len(members))
        local = None
        if not bounded or len(members) <= WARD_MAX_UNITS:
            local = _ward_with_graph(graph, members, x[idx], share)
            counts = np.bincount(local, minlength=share)
            if counts.min() < low or (high is not None and counts.max() > high):
                local = None
        if local is None:
            local = _tree_bisection(graph, members, x[idx], share)
        labels[idx] = offset + local
        offset += share
    return labels


def _tree_bisection(
    graph: nx.Graph, members: list[str], x: np.ndarray, k: int
) -> np.ndarray:
    """Split a connected component into ``k`` connected parts of near-equal size.

    Recursively cut the edge of a minimum spanning tree (edge weight = squared
    feature distance) whose removal splits the part closest to the target
    size of some ``p`` clusters (``p`` between about k/3 and 2k/3, so the
    recursion stays shallow); among equally good cuts the most
    dissimilar edge wins (as in SKATER). Each side of a tree cut is a subtree,
    hence connected in the adjacency graph.
    """
    n = len(members)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    adjacency = sparse.csr_matrix(
        nx.to_scipy_sparse_array(graph, nodelist=members, format="csr")
    )
    a, b = adjacency.nonzero()
    weight = ((x[a] - x[b]) ** 2).sum(axis=1) + 1e-12  # csgraph drops zero weights
    tree = minimum_spanning_tree(sparse.csr_matrix((weight, (a, b)), shape=(n, n)))
    tree = tree + tree.T
    near = [tree.indices[tree.indptr[i] : tree.indptr[i + 1]] for i in range(n)]
    wts = [tree.data[tree.indptr[i] : tree.indptr[i + 1]] for i in range(n)]
    part = np.zeros(n, dtype=np.int64)
    stack = [(0, np.arange(n), k)]
    next_label = 1
    while stack:
        label, nodes, parts = stack.pop()
        if parts == 1:
            continue
        order, parent, parent_w = _bfs_within(nodes[0], near, wts, part, label)
        size = {v: 1 for v in order}
        for v in reversed(order[1:]):
            size[parent[v]] += size[v]
        third = max(1, parts // 3)
        window = range(third, 2 * third + 1)
        choices = sorted({p for p in window if 0 < p < parts} | {parts // 2})
        cut_at, cut_parts = _best_cut(order[1:], size, parent_w, len(nodes), parts, choices)
        subtree, _, _ = _bfs_within(
            cut_at, near, wts, part, label, avoid=parent[cut_at]
        )
        part[subtree] = next_label
        stack.append((next_label, np.array(subtree), cut_parts))
        stack.append((label, nodes[part[nodes] == label], parts - cut_parts))
        next_label += 1
    return part


def _best_cut(
    candidates: list[int], size: dict[int, int], parent_w: dict[int, float], n: int,
    parts: int, choices: list[int],
) -> tuple[int, int]:
    """The tree edge to cut (above node ``v``) and the clusters its subtree gets.

    Minimises ``(|size[v] − n·p/parts|, −weight, v)`` over every candidate ``v`` and
    every ``p`` in ``choices`` (ascending), the first ``p`` winning a tie for one
    ``v``. In numpy: each ``v`` only needs the two targets ``n·p/parts`` around its
    subtree size, so the work is ~|v| log |choices| instead of |v| × |choices|
    (50 000 units in 8 333 contiguous clusters: the double loop took 54 s).
    """
    v = np.asarray(candidates, dtype=np.int64)
    sizes = np.array([size[u] for u in candidates], dtype=np.float64)
    weights = np.array([parent_w[u] for u in candidates], dtype=np.float64)
    p = np.asarray(choices, dtype=np.int64)
    targets = (n * p) / parts  # ascending with p
    if len(p) > 1:
        hi = np.clip(np.searchsorted(targets, sizes), 1, len(p) - 1)
    else:
        hi = np.zeros(len(v), dtype=np.int64)
    lo = np.maximum(hi - 1, 0)
    below, above = np.abs(sizes - targets[lo]), np.abs(sizes - targets[hi])
    pick = np.where(below <= above, lo, hi)  # the smaller p on a tie, as the loop kept it
    score = np.minimum(below, above)
    first = np.lexsort((v, -weights, score))[0]
    return int(v[first]), int(p[pick[first]])


def _bfs_within(
    start: int,
    near: list[np.ndarray],
    wts: list[np.ndarray],
    part: np.ndarray,
    label: int,
    avoid: int = -1,
) -> tuple[list[int], dict[int, int], dict[int, float]]:
    """BFS over tree edges inside ``part == label``: order, parent, weight to parent."""
    order = [start]
    parent = {start: -1}
    parent_w = {start: 0.0}
    head = 0
    while head < len(order):
        v = order[head]
        head += 1
        for u, w in zip(near[v].tolist(), wts[v].tolist()):
            if u in parent or u == avoid or part[u] != label:
                continue
            parent[u] = v
            parent_w[u] = w
            order.append(u)
    return order, parent, parent_w


def allocate(sizes: list[int], k: int) -> list[int]:
    """Split ``k`` clusters over blocks of ``sizes`` units: ≥ 1 each, ≤ size, roughly
    proportional (each next cluster goes to the block with most units per cluster)."""
    shares = [1] * len(sizes)
    total = sum(sizes)
    for _ in range(k - len(sizes)):
        # give the next cluster to the component with most units per cluster
        room = [
            (s / shares[i] if shares[i] < s else -1.0, -i) for i, s in enumerate(sizes)
        ]
        best = max(range(len(sizes)), key=lambda i: room[i])
        shares[best] += 1
    assert sum(shares) == k and total >= k
    return shares


def _ward_with_graph(
    graph: nx.Graph, members: list[str], x: np.ndarray, k: int
) -> np.ndarray:
    n = len(members)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if k == n:
        return np.arange(n, dtype=np.int64)
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=members, format="csr")
    connectivity = sparse.csr_matrix(adjacency)
    model = AgglomerativeClustering(
        n_clusters=k, connectivity=connectivity, linkage="ward"
    )
    return model.fit_predict(x).astype(np.int64)


def repair_sizes_contiguous(
    labels: np.ndarray,
    x: np.ndarray,
    k: int,
    graph: nx.Graph,
    unit_ids: tuple[str, ...],
    min_size: int | None,
    max_size: int | None,
) -> np.ndarray:
    """Size repair that keeps every cluster connected (best effort).

    Ward clusters are connected but their sizes vary a lot. The worst cluster
    (most units over ``max_size`` or under ``min_size``) is fixed along a
    shortest path in the cluster adjacency graph to the nearest cluster that
    has room (or a unit to spare): one unit shifts across each border of the
    path, starting at the far end, so only the two ends change size. A unit
    may only leave a cluster when it is not an articulation point of it, so
    the cluster it leaves stays connected, and it joins a cluster it touches.
    Among the allowed units the cheapest in feature space moves. A cluster that
    cannot be fixed is skipped until some other move succeeds; at most ``2 n``
    moves in all.
    """
    n = len(labels)
    low = 0 if min_size is None else min(min_size, n // k)
    high = n if max_size is None else max(max_size, -(-n // k))
    labels = labels.copy()
    counts = np.bincount(labels, minlength=k)
    if counts.min() >= low and counts.max() <= high:
        return labels
    row = {u: i for i, u in enumerate(unit_ids)}
    neighbours = [
        np.array([row[v] for v in graph[u]], dtype=np.int64) for u in unit_ids
    ]
    edges = np.array([(row[a], row[b]) for a, b in graph.edges], dtype=np.int64)
    centres = cluster_centres(labels, x, k)
    stuck: set[int] = set()
    budget = 2 * n
    cluster_graph: nx.Graph | None = None
    since_refresh = 0
    while budget > 0:
        badness = np.maximum(counts - high, low - counts).astype(np.float64)
        badness[list(stuck)] = 0
        worst = int(np.argmax(badness))
        if badness[worst] <= 0:
            break
        over = counts[worst] > high
        ends = {int(c) for c in np.flatnonzero(counts < high if over else counts > low)}
        if cluster_graph is None or since_refresh >= REFRESH_EVERY or stuck:
            cluster_graph = _cluster_graph(labels, edges, k)
            since_refresh = 0
        since_refresh += 1
        moved = False
        for _attempt in range(4):
            path = _path_to(cluster_graph, worst, ends)
            if path is None:
                break
            forward = list(itertools.pairwise(path))
            steps = forward if over else [(b, a) for a, b in forward]
            failed = _shift_along(
                reversed(steps), labels, counts, neighbours, x, centres
            )
            if failed is None:
                moved = True
                budget -= len(steps)
                break
            cluster_graph.remove_edge(*failed)
        if moved:
            stuck.clear()
        else:
            stuck.add(worst)
    return labels


def _shift_along(
    steps: Iterable[tuple[int, int]],
    labels: np.ndarray,
    counts: np.ndarray,
    neighbours: list[np.ndarray],
    x: np.ndarray,
    centres: np.ndarray,
) -> tuple[int, int] | None:
    """Move one unit across each (source, target) border; all or nothing.

    Returns None on success, else the border that admitted no move (every
    earlier move of this call is undone, so sizes and shapes are unchanged).
    """
    done: list[tuple[int, int, int]] = []
    for source, target in steps:
        unit = _cheapest_border_unit(source, target, labels, neighbours, x, centres)
        if unit is None:
            for unit_back, source_back, target_back in reversed(done):
                labels[unit_back] = source_back
                counts[source_back] += 1
                counts[target_back] -= 1
            return source, target
        labels[unit] = target
        counts[source] -= 1
        counts[target] += 1
        done.append((unit, source, target))
    return None


def _cluster_graph(labels: np.ndarray, edges: np.ndarray, k: int) -> nx.Graph:
    """Clusters as nodes, an edge where two clusters touch."""
    graph = nx.Graph()
    graph.add_nodes_from(range(k))
    if len(edges):
        a, b = labels[edges[:, 0]], labels[edges[:, 1]]
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        codes = np.unique(lo * k + hi)
        graph.add_edges_from(zip((codes // k).tolist(), (codes % k).tolist()))
    return graph


def _path_to(cluster_graph: nx.Graph, start: int, ends: set[int]) -> list[int] | None:
    """Shortest path (BFS, smallest ids first) from ``start`` to any cluster in ``ends``."""
    parent = {start: start}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for other in sorted(cluster_graph[node]):
                if other in parent:
                    continue
                parent[other] = node
                if other in ends:
                    path = [other]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                nxt.append(other)
        frontier = nxt
    return None


def _cheapest_border_unit(
    source: int,
    target: int,
    labels: np.ndarray,
    neighbours: list[np.ndarray],
    x: np.ndarray,
    centres: np.ndarray,
) -> int | None:
    """Cheapest unit of ``source`` touching ``target`` whose departure keeps ``source`` connected."""
    members = np.flatnonzero(labels == source)
    if len(members) <= 1:
        return None
    border = np.array(
        [u for u in members.tolist() if (labels[neighbours[u]] == target).any()],
        dtype=np.int64,
    )
    if len(border) == 0:
        return None
    cost = ((x[border] - centres[target]) ** 2).sum(axis=1) - (
        (x[border] - centres[source]) ** 2
    ).sum(axis=1)
    inside = set(members.tolist())
    for pos in np.argsort(cost, kind="stable"):
        unit = int(border[pos])
        if _connected_without(inside, unit, neighbours):
            return unit
    return None


def _connected_without(
    inside: set[int], unit: int, neighbours: list[np.ndarray]
) -> bool:
    """True when ``inside`` minus ``unit`` is still connected (one BFS)."""
    rest = inside - {unit}
    start = next(iter(rest))
    seen = {start}
    frontier = [start]
    while frontier:
        v = frontier.pop()
        for u in neighbours[v].tolist():
            if u in rest and u not in seen:
                seen.add(u)
                frontier.append(u)
    return len(seen) == len(rest)


def cluster_centres(labels: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Mean feature vector of each cluster (zeros for an empty one)."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x)
    return sums / np.maximum(counts, 1)[:, None]
