"""A fast scikit-learn partition used to warm-start and prune the CP-SAT model.

Why a seed: CP-SAT proves and repairs, but finds good first plans slowly on
thousands of units (``benchmark-findings.md``). KMeans on the feature space
gives a homogeneous partition in seconds even at 50 000 units (about 6 s with
500 clusters); when the plan must be contiguous, Ward agglomeration restricted
to the adjacency graph, or a balanced spanning-tree bisection, gives connected
clusters instead (:mod:`optimizer.seed_contiguous`). The seed then honours the
size bounds where it can (a cheap greedy repair), because a hint that breaks
``min_size``/``max_size`` is mostly wasted on the solver. Balance and the other
rules are left to the model.

Determinism: KMeans gets ``random_state=problem.settings.seed`` (never global
seeding); clusters are renumbered by their first unit in table order, so the
same problem always yields the same :class:`Assignment`.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors

from optimizer.plan import Assignment
from optimizer.problem import Problem
from optimizer.seed_contiguous import (
    allocate,
    cluster_centres,
    contiguous_labels,
    repair_sizes_contiguous,
)


def seed_clusters(problem: Problem, n_clusters: int) -> Assignment:
    """Partition the units of ``problem`` into ``n_clusters`` non-empty clusters.

    Parameters
    ----------
    problem
        The prepared problem; its ``features`` define similarity.
    n_clusters
        Number of clusters (1 ≤ n_clusters ≤ number of units).

    Returns
    -------
    Assignment
        Labels 0..n_clusters-1, every one used, numbered by first appearance in
        unit order. Contiguous (when ``rules.contiguous`` and a graph is given)
        if the graph has at most ``n_clusters`` components; otherwise
        components are merged, which no plan can avoid. Under ``one_region``
        / ``one_function`` the clusters are shared out over the regions /
        functions (in proportion to their units, see :func:`rule_blocks`)
        and never mix two, when there are at most ``n_clusters`` blocks. Size bounds are met where the repair manages.

    Raises
    ------
    ValueError
        ``n_clusters`` outside 1..number of units.
    """
    unit_ids = problem.unit_ids
    n_units = len(unit_ids)
    if not 1 <= n_clusters <= n_units:
        raise ValueError(f"n_clusters must be in 1..{n_units}, got {n_clusters}")
    x = _features_in_unit_order(problem)
    blocks = rule_blocks(problem, x)
    if len(blocks) > n_clusters:  # the block rules cannot hold; seed without them
        blocks = [np.arange(n_units)]
    labels = np.zeros(n_units, dtype=np.int64)
    offset = 0
    for block, share in zip(blocks, allocate([len(b) for b in blocks], n_clusters)):
        labels[block] = offset + _seed_block(problem, block, x[block], share)
        offset += share
    return Assignment(labels=dict(zip(unit_ids, _canonical(labels).tolist())))


def rule_blocks(problem: Problem, x: np.ndarray) -> list[np.ndarray]:
    """Unit indices no seed cluster should mix, from ``one_region`` / ``one_function``.

    Under one_region each region is a block; under one_function each function
    (a multi-valued unit goes with its most widespread function); under both,
    each (region, function) pair. A unit missing the category may join any
    compatible block and goes to the one whose mean feature vector is nearest.
    Without these rules (or with one category only) there is a single block.
    """
    n = problem.profiles.n_units
    rules = problem.rules
    frame = problem.profiles.frame
    parts: list[list[str | None]] = []
    if rules.one_region:
        parts.append([v if isinstance(v, str) and v else None for v in frame["region"]])
    if rules.one_function:
        sets = [
            tuple(v) if isinstance(v, (tuple, list)) else () for v in frame["functions"]
        ]
        spread = Counter(f for fs in sets for f in set(fs))
        parts.append(
            [min(fs, key=lambda f: (-spread[f], f)) if fs else None for fs in sets]
        )
    keys = list(zip(*parts)) if parts else [() for _ in range(n)]
    names = sorted({key for key in keys if None not in key})
    if len(names) <= 1:
        return [np.arange(n)]
    index = {key: c for c, key in enumerate(names)}
    code = np.array([index.get(key, -1) for key in keys])
    means = np.array([x[code == c].mean(axis=0) for c in range(len(names))])
    for unit in np.flatnonzero(code < 0):
        fits = [
            c
            for c, name in enumerate(names)
            if all(a is None or a == b for a, b in zip(keys[unit], name))
        ] or list(range(len(names)))
        dist = ((means[fits] - x[unit]) ** 2).sum(axis=1)
        code[unit] = fits[int(np.argmin(dist))]
    return [np.flatnonzero(code == c) for c in range(len(names))]


def _seed_block(
    problem: Problem, block: np.ndarray, x: np.ndarray, k: int
) -> np.ndarray:
    """Labels 0..k-1 for the units ``block`` (indices into the unit order)."""
    rules = problem.rules
    all_ids = problem.unit_ids  # a property that rebuilds the tuple: read once
    ids = tuple(all_ids[i] for i in block.tolist())
    if rules.contiguous and problem.graph is not None:
        graph = problem.graph
        if len(ids) < graph.number_of_nodes():
            graph = graph.subgraph(ids).copy()
        low, high = _size_band(len(ids), k, rules.min_size, rules.max_size)
        labels = contiguous_labels(graph, ids, x, k, low, high)
        return repair_sizes_contiguous(
            labels, x, k, graph, ids, rules.min_size, rules.max_size
        )
    labels = _kmeans_labels(x, k, problem.settings.seed)
    labels = _fill_empty(labels, x, k)
    return repair_sizes(labels, x, k, rules.min_size, rules.max_size)


def _size_band(
    n: int, k: int, min_size: int | None, max_size: int | None
) -> tuple[int, int]:
    """Size bounds a k-cluster split of n units can meet: the rules widened to
    include ``[n // k, ceil(n / k)]``."""
    low = 0 if min_size is None else min(min_size, n // k)
    high = n if max_size is None else max(max_size, -(-n // k))
    return low, high


def _features_in_unit_order(problem: Problem) -> np.ndarray:
    fm = problem.features
    x = fm.values
    unit_ids = problem.unit_ids
    if fm.unit_ids != unit_ids:
        row = {u: i for i, u in enumerate(fm.unit_ids)}
        x = x[[row[u] for u in unit_ids]]
    if x.shape[1] == 0:  # no similarity criterion: every partition is equally good
        x = np.zeros((x.shape[0], 1))
    return np.asarray(x, dtype=np.float64)


def _kmeans_labels(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    n = x.shape[0]
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if k == n:
        return np.arange(n, dtype=np.int64)
    with warnings.catch_warnings():
        # duplicate points give fewer distinct clusters than k; _fill_empty repairs
        warnings.simplefilter("ignore")
        model = KMeans(n_clusters=k, random_state=seed, n_init=_n_init(n))
        return model.fit_predict(x).astype(np.int64)


def _n_init(n_units: int) -> int:
    """KMeans restarts: 10 on small tables, 1 at scale (4 s at 50 000 x 500 clusters)."""
    if n_units <= 2_000:
        return 10
    return 3 if n_units <= 20_000 else 1


def _fill_empty(labels: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """Give each empty cluster the unit farthest from its centre in the largest cluster."""
    labels = labels.copy()
    counts = np.bincount(labels, minlength=k)
    for empty in np.flatnonzero(counts == 0):
        donor = int(np.argmax(counts))
        centre = x[labels == donor].mean(axis=0)
        members = np.flatnonzero(labels == donor)
        far = members[int(np.argmax(((x[members] - centre) ** 2).sum(axis=1)))]
        labels[far] = empty
        counts[donor] -= 1
        counts[empty] += 1
    return labels


def repair_sizes(
    labels: np.ndarray,
    x: np.ndarray,
    k: int,
    min_size: int | None,
    max_size: int | None,
) -> np.ndarray:
    """Move the cheapest units until every cluster size lies in [min_size, max_size].

    Greedy and best-effort, in batched rounds so it stays cheap at 50 000 units:
    first units leave oversized clusters for the nearest centre with room
    (cheapest increase of squared distance first), then undersized clusters
    pull their nearest units from clusters that can spare one. Each round looks
    further (more centres, more units) if the previous one got stuck. Bounds
    no plan can meet (``k * max_size < n``) are the pre-check's business; they
    are widened to the nearest achievable ones here.
    """
    n = len(labels)
    low = 0 if min_size is None else min(min_size, n // k)
    high = n if max_size is None else max(max_size, -(-n // k))
    labels = labels.copy()
    centres = cluster_centres(labels, x, k)
    for round_ in range(8):
        counts = np.bincount(labels, minlength=k)
        if counts.max() <= high:
            break
        reach = min(k, 16 * 4**round_)
        index = NearestNeighbors(n_neighbors=reach).fit(centres)
        units = np.flatnonzero(counts[labels] > high)
        dist, near = index.kneighbors(x[units])
        delta = (
            dist**2 - ((x[units] - centres[labels[units]]) ** 2).sum(axis=1)[:, None]
        )
        excess = int(np.maximum(counts - high, 0).sum())
        for flat in np.argsort(delta, axis=None, kind="stable"):
            i, j = divmod(int(flat), reach)
            unit, target = units[i], int(near[i, j])
            source = int(labels[unit])
            if counts[source] <= high or counts[target] >= high:
                continue
            labels[unit] = target
            counts[source] -= 1
            counts[target] += 1
            excess -= 1
            if excess == 0:
                break
    point_index = NearestNeighbors().fit(x) if low > 0 else None
    for round_ in range(8):
        counts = np.bincount(labels, minlength=k)
        under = np.flatnonzero(counts < low)
        if len(under) == 0 or point_index is None:
            break
        reach = min(n, 4**round_ * (16 + 4 * int(low - counts.min())))
        dist, near = point_index.kneighbors(centres[under], n_neighbors=reach)
        own = ((x[near] - centres[labels[near]]) ** 2).sum(axis=2)
        delta = dist**2 - own
        moved: set[int] = set()
        for flat in np.argsort(delta, axis=None, kind="stable"):
            i, j = divmod(int(flat), reach)
            unit, target = int(near[i, j]), int(under[i])
            source = int(labels[unit])
            if unit in moved or counts[target] >= low or counts[source] <= low:
                continue
            labels[unit] = target
            counts[source] -= 1
            counts[target] += 1
            moved.add(unit)
    return labels


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters by the first unit of each in table order (0, 1, 2, ...)."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(labels.max() + 1, dtype=np.int64)
    mapping[np.unique(labels)[order]] = np.arange(len(order))
    return mapping[labels]
