"""Large tables under ``stability_weight``: trade dispersion against moved units.

Why: a stability weight prices every unit that leaves its current group, so
the best plan lies between two poles — the fresh plan (lowest dispersion,
most units moved) and the current grouping (nobody moved, usually far more
dispersed). The restricted CP-SAT model that ran alone here from the
unimproved start was worse than ignoring the weight (10 000 units, 1 250
clusters, weight 0.5, 30 s: 3 834.7 against 3 733.3 for the fresh plan).
So the ordinary phases build the fresh plan as if there were no weight, and
:func:`trade_moves` then starts from whichever pole costs less in the full
objective and runs the local search with the move price in every step
(:func:`optimizer.local_search.improve`'s ``move_penalty``).

A unit counts as moved when its cluster's *name* differs from its current
group's; names go to clusters by greatest overlap
(:func:`optimizer.labels.label_partition`). During the search the names are
held fixed (:func:`home_clusters`), so each step's move count is exact for
them; renaming afterwards can only keep more units in place.

The current-grouping pole is also the start under ``max_moves``
(:func:`current_start`), at any cluster count: :func:`current_labels` brings
the current groups to ``k`` clusters before the repair, inside each block
under one_region / one_function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.budget import Clock
from optimizer.check import partition_passes
from optimizer.data import ModelData
from optimizer.labels import count_moved, label_partition
from optimizer.local_search import (
    SearchStats,
    improve,
    locked_units,
    place_locked,
    within_blocks,
)
from optimizer.objective import medoid_dispersion, move_cost
from optimizer.problem import Problem
from optimizer.repair import repair_balance


@dataclass(frozen=True)
class TradeStats:
    """What :func:`trade_moves` did: the start it chose and the costs (integer units)."""

    start: str  # "fresh" or "current"
    fresh_cost: int
    current_cost: int | None  # None: the current grouping could not be made a plan
    moved: int
    search: SearchStats


def home_clusters(labels: Sequence[int], data: ModelData) -> np.ndarray:
    """Per unit, the cluster that carries its current group's name; −1 when none does.

    A unit whose group names no cluster (or that has no group) counts as moved
    wherever it goes, so no step changes its count: −1 makes the search leave
    it out. Clusters are given by their ids in ``labels``.
    """
    _, names = label_partition(list(labels), data)
    ids = sorted(set(labels))  # label_partition numbers the clusters in this order
    cluster_of = {name: ids[c] for c, name in enumerate(names)}
    home = np.full(data.n, -1, dtype=np.int64)
    for i, g in enumerate(data.current):
        if g >= 0:
            home[i] = cluster_of.get(data.group_names[g], -1)
    return home


def plan_cost(problem: Problem, data: ModelData, labels: Sequence[int]) -> tuple[int, int]:
    """``(cost, moved)`` of the partition as the plan reports it (``solve._finish``: medoid
    dispersion, units moved by cluster name)."""
    clusters, names = label_partition(list(labels), data)
    moved = count_moved(clusters, names, data)
    cost = medoid_dispersion(problem.features, labels)
    return cost + move_cost(problem.rules.stability_weight) * moved, moved


#: Cluster centres looked at, nearest first, for a unit with no cluster (current_labels).
NEAREST_CENTRES = 16


def current_labels(problem: Problem, data: ModelData, k: int,
                   codes: np.ndarray | None = None) -> np.ndarray | None:
    """The current grouping as ``k`` clusters (labels ``0..k-1``), before any repair; None
    when no unit has a current group.

    Why: a planner often changes the cluster count between cycles (a province
    going from 412 clusters of 8 to 550 of 5–7) or adds units with no current
    cluster, and still asks for few moves; with the current grouping usable
    only at exactly ``k`` groups, 3 300 units with ``max_moves`` 1 000 got no
    plan in 30 s. Here the largest groups keep their clusters (fewest units
    leave them). With fewer groups than ``k``, each new cluster starts from the
    free unit farthest from the centre of the group with the most units to
    spare and takes its nearest units that may go — units with no cluster yet
    first (they count as moved nowhere), then units of clusters above
    ``min_size`` — up to ``min_size`` (filling them one repair step at a time
    took 19 s at 10 000 units and still left them short); a current group below
    ``min_size`` is filled the same way. Units still without
    a cluster (no group, or a dissolved smallest group) join the nearest
    cluster with room. ``codes`` (one_region / one_function: each unit's
    block): a new cluster takes units of its seed's block only, and a unit
    joins a cluster of its own block when there is one.
    """
    from sklearn.neighbors import NearestNeighbors

    current = np.asarray(data.current, dtype=np.int64)
    known = current >= 0
    if not known.any():
        return None
    X = np.asarray(problem.features.values, dtype=np.float64)
    _, groups = np.unique(current[known], return_inverse=True)
    sizes = np.bincount(groups)
    kept = min(len(sizes), k)
    rank = np.full(len(sizes), -1, dtype=np.int64)
    largest = np.sort(np.argsort(-sizes, kind="stable")[:kept])
    rank[largest] = np.arange(kept)  # kept groups in their own order, the rest -1
    labels = np.full(data.n, -1, dtype=np.int64)
    labels[known] = rank[groups]
    free = ~locked_units(data)
    min_size = problem.rules.min_size or 1
    max_size = problem.rules.max_size or data.n
    placed = labels >= 0
    size = np.bincount(labels[placed], minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels[placed], X[placed])

    def move(i: int, c: int) -> None:
        if labels[i] >= 0:
            size[labels[i]] -= 1
            sums[labels[i]] -= X[i]
        labels[i] = c
        size[c] += 1
        sums[c] += X[i]

    nearest = NearestNeighbors().fit(X)

    def fill(c: int, anchor: int) -> None:
        """Bring cluster ``c`` up to ``min_size`` with ``anchor``'s nearest units that may go:
        units with no cluster first (no move counted), then units of clusters above
        ``min_size`` (sizes re-checked as they change), in the anchor's block."""
        want, reach = min_size - size[c], 4 * min_size
        while want > 0:
            reach = min(reach, data.n)
            _, near = nearest.kneighbors(X[anchor][None, :], n_neighbors=reach)
            ok = [int(i) for i in near[0] if free[i] and labels[i] != c
                  and (labels[i] < 0 or size[labels[i]] > min_size)
                  and (codes is None or codes[i] == codes[anchor])]
            for i in sorted(ok[: 3 * want], key=lambda j: labels[j] >= 0) + ok[3 * want:]:
                if want and (labels[i] < 0 or size[labels[i]] > min_size):
                    move(i, c)
                    want -= 1
            if want and reach == data.n:
                return  # nothing left to take: the repair must do the rest
            reach *= 4

    for c in range(kept, k):
        donor = int(np.argmax(size[:c]))
        members = np.flatnonzero((labels == donor) & free)
        if len(members) == 0:
            return None
        centre = sums[donor] / size[donor]
        seed = int(members[np.argmax(((X[members] - centre) ** 2).sum(axis=1))])
        move(seed, c)
        fill(c, seed)
    for c in np.flatnonzero((size[:kept] > 0) & (size[:kept] < min_size)).tolist():
        # a current group smaller than min_size (13 of 6 249 at 50 000 units): filled the same
        # way from its most central member, before the repair
        members = np.flatnonzero(labels == c)
        centre = sums[c] / size[c]
        fill(c, int(members[np.argmin(((X[members] - centre) ** 2).sum(axis=1))]))
    block_of = None
    if codes is not None:  # each cluster's block: its first member's
        block_of = np.full(k, -1, dtype=np.int64)
        members = np.flatnonzero(labels >= 0)
        clusters, first = np.unique(labels[members], return_index=True)
        block_of[clusters] = codes[members[first]]
    lost = np.flatnonzero(labels < 0)
    if len(lost) == 0:
        return labels
    # nearest centres for all of them at once (one distance row per unit over every
    # cluster took ~3 s for 5 000 units in 7 000 clusters); the full row only when
    # none of those has room (in the unit's block)
    filled = np.flatnonzero(size > 0)
    near_centres = NearestNeighbors().fit(sums[filled] / size[filled, None])
    _, order = near_centres.kneighbors(X[lost], n_neighbors=min(NEAREST_CENTRES, len(filled)))
    for i, options in zip(lost.tolist(), filled[order]):
        room = options[size[options] < max_size]
        if block_of is not None:
            room = room[block_of[room] == codes[i]]
        if len(room):
            move(i, int(room[0]))
            continue
        gaps = ((sums / np.maximum(size, 1)[:, None] - X[i]) ** 2).sum(axis=1)
        gaps[(size >= max_size) | (size == 0)] = np.inf
        if block_of is not None and np.isfinite(gaps[block_of == codes[i]]).any():
            gaps[block_of != codes[i]] = np.inf
        move(i, int(np.argmin(gaps)) if np.isfinite(gaps).any() else int(np.argmin(size)))
    return labels


def rule_codes(problem: Problem, data: ModelData) -> np.ndarray | None:
    """Each unit's block under one_region / one_function (:func:`optimizer.seed.rule_blocks`),
    or None without those rules."""
    if not (problem.rules.one_region or problem.rules.one_function):
        return None
    from optimizer.rule_groups import block_codes
    from optimizer.seed import features_in_unit_order, rule_blocks

    return block_codes(rule_blocks(problem, features_in_unit_order(problem)), data.n)


def current_start(
    problem: Problem, data: ModelData, k: int, *, clock: Clock, max_work: int,
    codes: np.ndarray | None = None,
) -> list[int] | None:
    """The current grouping as a plan meeting every rule, or None.

    :func:`current_labels` (any number of current groups), pinned units placed,
    sizes and bands repaired; None when no unit has a current group or the
    result fails ``check_plan``. Under one_region / one_function (``codes``:
    each unit's block, from the blocks' start or else
    :func:`optimizer.seed.rule_blocks`) a current grouping whose clusters each
    lie in one block stays so: new clusters are filled, pinned units placed and
    sizes and bands repaired inside each block (3 300 units in 412
    one-region clusters, 550 asked, one_region, max_moves 1 500: the repair
    mixed regions, and no plan came in 30 s).
    """
    from optimizer.lns_phases import settle_within_blocks

    if codes is None:
        codes = rule_codes(problem, data)
    start = current_labels(problem, data, k, codes)
    if start is None:
        return None
    current = start.tolist()
    if codes is not None and within_blocks(current, codes):
        mended = settle_within_blocks(problem, data, k, current, codes, clock=clock,
                                      max_work=max_work, deadline=clock.deadline)
    else:
        locked = locked_units(data)
        if locked.any():
            # together / apart / fixed first (10 000 units, weight 2, three such rules: the
            # current grouping broke them, so did the plan searched from it — no plan in 30 s)
            current = place_locked(data, current, k)
        mended, left_over = repair_balance(problem, data, k, current, seconds=clock.left(),
                                           free=~locked, clock=clock, max_work=max_work)
        if left_over != 0.0 or len(set(mended)) != k:
            mended = None
    return mended if mended is not None and partition_passes(problem, data, mended) else None


def always_moved(labels: Sequence[int], data: ModelData) -> int:
    """Units with a current group that names no cluster of ``labels``: moved wherever they go
    (:func:`home_clusters` gives them −1, so a move budget must leave room for them)."""
    home = home_clusters(labels, data)
    return int(((home < 0) & (np.asarray(data.current) >= 0)).sum())


def trade_moves(
    problem: Problem, data: ModelData, k: int, fresh: list[int], *,
    deadline: float, clock: Clock, repair_work: int, search_work: int,
    blocks: np.ndarray | None = None,
) -> tuple[list[int], TradeStats]:
    """The cheaper of ``fresh`` and the current grouping, improved with moves priced in.

    ``fresh`` must meet sizes and bands (the ordinary phases' plan). The
    current grouping is a start only if it meets every rule once its pinned
    units are placed and it is repaired. The result passes ``check_plan``
    when its start did, and never costs more than that start
    (the local search's steps are priced in sum-of-squares units against the
    medoid objective, so the final cost is compared, not assumed).

    ``blocks`` (one_region / one_function, one code per unit): ``fresh`` has
    every cluster inside one block; the current grouping is a start only if it
    has too, and the search pairs clusters of the same block only.
    """
    penalty = float(problem.rules.stability_weight)
    fresh_cost, _ = plan_cost(problem, data, fresh)
    current = current_start(problem, data, k, clock=clock, max_work=repair_work, codes=blocks)
    if current is not None and blocks is not None and not within_blocks(current, blocks):
        current = None
    current_cost = None if current is None else plan_cost(problem, data, current)[0]
    start, start_name, start_cost = fresh, "fresh", fresh_cost
    if current is not None and current_cost < fresh_cost:
        start, start_name, start_cost = current, "current", current_cost
    labels, stats = improve(problem, data, k, start, deadline=deadline, clock=clock,
                            max_work=search_work, home=home_clusters(start, data),
                            move_penalty=penalty, blocks=blocks)
    cost, moved = plan_cost(problem, data, labels)
    if cost > start_cost or not partition_passes(problem, data, labels):
        labels = list(start)
        _, moved = plan_cost(problem, data, labels)
    return labels, TradeStats(start_name, fresh_cost, current_cost, moved, stats)
