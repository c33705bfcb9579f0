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
same problem always yields the same :class:`Assignment`. Up to
:data:`KMEANS_ONE_THREAD_MAX` units KMeans runs on one OpenMP thread, so its
result cannot depend on the machine's core count, and a loaded machine cannot
stall it (see the constant).
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from optimizer.plan import Assignment
from optimizer.problem import Problem
from optimizer.seed_contiguous import (
    allocate,
    cluster_centres,
    contiguous_labels,
    repair_sizes_contiguous,
)

#: Tables up to this many units get a single-threaded KMeans. Measured (2 cores,
#: n_init as :func:`_n_init`): quiet, 1 thread vs 2 takes 0.027 vs 0.028 s at
#: 700 units, 0.052 vs 0.044 s at 3 300, 0.32 vs 0.44 s at 10 000; with both
#: cores busy (another process), 0.063 vs 0.14 s (worst 1.3 s) at 700 and
#: 0.068 vs 0.95 s at 3 300 — OpenMP threads waiting for each other on a
#: loaded machine, which the solve's time allowances do not foresee. At
#: 50 000 units threads pay: 5.7 vs
#: 3.8 s, so large tables keep them.
KMEANS_ONE_THREAD_MAX = 20_000
#: Above this many unit × cluster pairs the k-means++ draw (each new centre
#: scored against every unit, a dozen trials) gives way to random initial
#: centres: 50 000 units in 25 000 pairs spent 36 s of a 60 s limit drawing
#: them, before the solve's clock could stop anything. Benchmark tables stay
#: below it (50 000 × 500).
KMEANS_PLUSPLUS_MAX_PAIRS = 200_000_000
#: scikit-learn's own iteration limit, kept when no work cap applies.
KMEANS_MAX_ITER = 300
#: Unit–centre distances a KMeans iteration evaluates per second, counted
#: conservatively (measured 2 cores, 19 features: 2e7/s at 700 units x 50
#: clusters, 1.8e8/s at 3 300 x 100, 7e8/s at 50 000 x 500 and x 7 000). Turns
#: the seed's share of the time limit into a deterministic iteration cap:
#: 50 000 units in 7 000 clusters ran 27 iterations, 13 s of a 60-s limit,
#: before any phase began.
KMEANS_PAIRS_PER_S = 5e8


def seed_clusters(
    problem: Problem, n_clusters: int, *, max_work: int | None = None
) -> Assignment:
    """Partition the units of ``problem`` into ``n_clusters`` non-empty clusters.

    Parameters
    ----------
    problem
        The prepared problem; its ``features`` define similarity.
    n_clusters
        Number of clusters (1 ≤ n_clusters ≤ number of units).
    max_work
        Most unit–centre distances KMeans may evaluate, over all its restarts
        and blocks (``None``: scikit-learn's 300 iterations). A cap on its
        iterations, so that the seed stays within its share of the time limit
        (:data:`KMEANS_PAIRS_PER_S`); the result stays deterministic.

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
    x = features_in_unit_order(problem)
    blocks = rule_blocks(problem, x)
    if len(blocks) > n_clusters:  # the block rules cannot hold; seed without them
        blocks = [np.arange(n_units)]
    labels = np.zeros(n_units, dtype=np.int64)
    offset = 0
    shares = allocate([len(b) for b in blocks], n_clusters)
    pairs = sum(len(b) * share for b, share in zip(blocks, shares))
    for block, share in zip(blocks, shares):
        iterations = KMEANS_MAX_ITER
        if max_work is not None:  # every block gets as many iterations
            iterations = min(max(max_work // max(pairs * _n_init(len(block)), 1), 1),
                             KMEANS_MAX_ITER)
        labels[block] = offset + _seed_block(problem, block, x[block], share, iterations)
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
    problem: Problem, block: np.ndarray, x: np.ndarray, k: int,
    max_iter: int = KMEANS_MAX_ITER,
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
    labels = _kmeans_labels(x, k, problem.settings.seed, max_iter)
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


def features_in_unit_order(problem: Problem) -> np.ndarray:
    """The feature matrix with rows in ``problem.unit_ids`` order (float64; one zero column when empty).

    Seeds, rule blocks and the large-table bound index units by that order,
    while a hand-built :class:`~optimizer.problem.Problem` may hold features in another.
    """
    fm = problem.features
    x = fm.values
    unit_ids = problem.unit_ids
    if fm.unit_ids != unit_ids:
        row = {u: i for i, u in enumerate(fm.unit_ids)}
        x = x[[row[u] for u in unit_ids]]
    if x.shape[1] == 0:  # no similarity criterion: every partition is equally good
        x = np.zeros((x.shape[0], 1))
    return np.asarray(x, dtype=np.float64)


def _kmeans_labels(
    x: np.ndarray, k: int, seed: int, max_iter: int = KMEANS_MAX_ITER
) -> np.ndarray:
    n = x.shape[0]
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if k == n:
        return np.arange(n, dtype=np.int64)
    with warnings.catch_warnings():
        # duplicate points give fewer distinct clusters than k; _fill_empty repairs
        warnings.simplefilter("ignore")
        init = "k-means++" if n * k <= KMEANS_PLUSPLUS_MAX_PAIRS else "random"
        model = KMeans(n_clusters=k, init=init, random_state=seed, n_init=_n_init(n),
                       max_iter=max_iter)
        threads = 1 if n <= KMEANS_ONE_THREAD_MAX else None
        with threadpool_limits(limits=threads, user_api="openmp"):
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

    Greedy and best-effort, in vectorised rounds so it stays cheap at 50 000
    units: first units leave oversized clusters for the nearest centre with
    room (cheapest increase of squared distance first; the search widens from
    16 to all centres when stuck), then undersized clusters take the cheapest
    units of clusters that can spare one. Centres stay those of the input. Bounds
    no plan can meet (``k * max_size < n``) are the pre-check's business; they
    are widened to the nearest achievable ones here.
    """
    n = len(labels)
    low = 0 if min_size is None else min(min_size, n // k)
    high = n if max_size is None else max(max_size, -(-n // k))
    labels = labels.copy()
    centres = cluster_centres(labels, x, k)
    reach = min(k, 16)
    nearest: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for _ in range(64):
        counts = np.bincount(labels, minlength=k)
        excess = np.maximum(counts - high, 0)
        if not excess.any():
            break
        if nearest is None:  # centres stay fixed and the oversized set only
            # shrinks: one neighbour search per reach, for the units concerned
            over_units = np.flatnonzero(excess[labels] > 0)
            index = NearestNeighbors(n_neighbors=reach).fit(centres)
            dist, near = index.kneighbors(x[over_units])
            nearest = (over_units, dist**2, near)
        n_moved = _move_out_batch(labels, x, centres, counts, excess, high, nearest)
        if n_moved == 0:
            if reach == k:
                break
            reach, nearest = min(k, reach * 4), None
    for _ in range(64):
        counts = np.bincount(labels, minlength=k)
        deficit = np.maximum(low - counts, 0)
        if not deficit.any():
            break
        under = np.flatnonzero(deficit > 0)
        spare = np.maximum(counts - low, 0)
        units = np.flatnonzero(spare[labels] > 0)
        if len(units) == 0:
            break
        index = NearestNeighbors(n_neighbors=min(len(under), 16)).fit(centres[under])
        dist, near = index.kneighbors(x[units])
        own = ((x[units] - centres[labels[units]]) ** 2).sum(axis=1)
        if (
            _apply_cheapest(
                labels, units, dist**2 - own[:, None], under[near], spare, deficit
            )
            == 0
        ):
            break
    return labels


def _rank_within(groups: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Rank of each item by ``cost`` among the items of its group (0 = cheapest)."""
    order = np.lexsort((cost, groups))
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - first
    return rank


def _move_out_batch(
    labels: np.ndarray,
    x: np.ndarray,
    centres: np.ndarray,
    counts: np.ndarray,
    excess: np.ndarray,
    high: int,
    nearest: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> int:
    """One vectorised round: each oversized cluster sheds its cheapest units.

    Every unit of an oversized cluster picks its cheapest centre among its
    precomputed nearest ones (``nearest`` = units, squared distances, indices) that
    has room; each cluster keeps only as many of those moves as it has excess
    units, each target accepts only as many as it has room for (cheapest
    first). Returns the number of units moved (in place).
    """
    units = np.flatnonzero(excess[labels] > 0)
    known, sq_dist, near = nearest
    rows = np.searchsorted(known, units)  # units ⊆ known, both sorted
    sq_dist, near = sq_dist[rows], near[rows]
    own = ((x[units] - centres[labels[units]]) ** 2).sum(axis=1)
    delta = sq_dist - own[:, None]
    room = np.maximum(high - counts, 0)
    delta[(room[near] == 0) | (near == labels[units][:, None])] = np.inf
    return _apply_cheapest(labels, units, delta, near, excess, room)


def _apply_cheapest(
    labels: np.ndarray,
    units: np.ndarray,
    delta: np.ndarray,
    targets: np.ndarray,
    source_cap: np.ndarray,
    target_cap: np.ndarray,
) -> int:
    """Move each unit to its cheapest finite option, within both capacities.

    ``delta[i, j]`` is the cost of moving ``units[i]`` to ``targets[i, j]``.
    Each source cluster gives at most ``source_cap`` units and each target
    takes at most ``target_cap``, cheapest first. Returns the number moved.
    """
    rows = np.arange(len(units))
    pick = np.argmin(delta, axis=1)
    cost, target = delta[rows, pick], targets[rows, pick]
    ok = np.isfinite(cost)
    units, cost, target = units[ok], cost[ok], target[ok]
    keep = _rank_within(labels[units], cost) < source_cap[labels[units]]
    units, cost, target = units[keep], cost[keep], target[keep]
    keep = _rank_within(target, cost) < target_cap[target]
    labels[units[keep]] = target[keep]
    return int(keep.sum())


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters by the first unit of each in table order (0, 1, 2, ...)."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(labels.max() + 1, dtype=np.int64)
    mapping[np.unique(labels)[order]] = np.arange(len(order))
    return mapping[labels]
