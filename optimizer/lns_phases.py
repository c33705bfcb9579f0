"""Phases of the large path between its first start and the model: other starts, regions.

Why apart from :mod:`optimizer.lns`: that module orders the phases and keeps
the time; these are the phases themselves — regional flow restarts (sizes
only), regional restarts (bands), annealing (bands; sizes only with small clusters), and
the per-block start of one_region / one_function. Each takes its allowance in
work units (:mod:`optimizer.budget`), so the plan does not depend on the
machine's speed.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.budget import LP_WORK_PER_S, REPAIR_WORK_PER_S, Clock, work
from optimizer.construct import REPAIR_MAX_S, REPAIR_SHARE
from optimizer.data import ModelData
from optimizer.flow_assign import regional_restarts
from optimizer.local_search import locked_units, place_locked, within_blocks
from optimizer.problem import Problem

#: one_region / one_function: share of the nominal time for the per-block start
#: (300 sample units, 50 clusters: 0.4 s of work; the share is a cap).
GROUPED_SHARE = 0.3
#: Share of the time left after the repair for the local search (it usually ends sooner).
LOCAL_SEARCH_SHARE = 0.5


def regional(problem, data, k, labels, deadline, clock, max_work, blocks=None):
    """Sizes only: regional flow restarts (:func:`optimizer.flow_assign.regional_restarts`)."""
    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    lab, stats = regional_restarts(X, np.asarray(labels), k, rules.min_size or 1,
                                   rules.max_size or data.n, seed=problem.settings.seed,
                                   max_work=max_work, deadline=deadline, clock=clock,
                                   frozen=locked_units(data), blocks=blocks)
    return lab.tolist(), stats


def band_regions(problem, data, k, labels, deadline, clock, max_work, blocks=None):
    """Bands: regional restarts (:func:`optimizer.band_regions.band_region_restarts`)."""
    from optimizer.band_regions import band_region_restarts
    from optimizer.repair import balance_arrays

    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    lab, stats = band_region_restarts(X, V, lo, hi, mean, labels, k, rules.min_size or 1,
                                      rules.max_size or data.n, seed=problem.settings.seed,
                                      max_work=max_work, deadline=deadline, clock=clock,
                                      frozen=locked_units(data), blocks=blocks)
    return lab.tolist(), stats


def pair_annealing(problem, data, k, labels, deadline, clock, max_work, blocks=None):
    """Annealing over disjoint cluster pairs (:func:`optimizer.anneal.anneal`): with bands, and
    under sizes only when clusters are small (no band: one unbounded zero column)."""
    from optimizer.anneal import anneal
    from optimizer.repair import balance_arrays

    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, _ = balance_arrays(data, k, data.n)
    lab, stats = anneal(X, V, lo, hi, np.asarray(labels), k, rules.min_size or 1,
                        rules.max_size or data.n, free=~locked_units(data),
                        seed=problem.settings.seed, max_work=max_work, deadline=deadline,
                        clock=clock, blocks=blocks)
    return lab.tolist(), stats


def grouped(problem: Problem, data: ModelData, k: int, nominal: float, deadline: float,
             clock: Clock) -> tuple[list[int], float, np.ndarray] | None:
    """one_region / one_function: each block solved on its own.

    None (the generic start runs) when the rules do not split the table, when
    pinned units (fixed / together / apart) cannot be placed inside their
    blocks, or when the blocks yield no plan meeting sizes and bands. Else the
    labels, the violation (0) and each unit's block, which the later searches
    keep (under one_function units of several functions may have been moved
    between blocks: :func:`optimizer.rule_groups.share_multi_function_units`).
    """
    from optimizer.rule_groups import (
        block_codes,
        grouped_start,
        share_multi_function_units,
    )
    from optimizer.seed import features_in_unit_order, rule_blocks

    rules = problem.rules
    if not (rules.one_region or rules.one_function):
        return None
    x = features_in_unit_order(problem)
    blocks = rule_blocks(problem, x)
    if len(blocks) < 2:
        return None
    share = GROUPED_SHARE * nominal

    def start(blocks: list[np.ndarray]) -> tuple[list[int], float] | None:
        # None at once (no LP) when no whole number of clusters per block fits
        return grouped_start(problem, data, k, blocks, max_work=work(share, LP_WORK_PER_S),
                             seconds=max(min(deadline - time.monotonic(), 3.0 * share + 1.0), 0.05),
                             clock=clock)

    out = start(blocks)
    if out is None:
        shared = share_multi_function_units(problem, data, k, blocks, x)
        if shared is not None:
            blocks, out = shared, start(shared)
    if out is None:
        return None
    codes = block_codes(blocks, data.n)
    labels, violation = out
    if violation == 0.0 and not locked_units(data).any():
        return labels, 0.0, codes
    # together / apart / fixed placed inside each block (10 000 units, one_region, three
    # such rules: 168.8 from the ordinary start and the restricted model, 134.8 this way,
    # 133.8 unpinned); and a part of a cut block may not fit where the whole block does
    # (10 000 units, 1 667 clusters of 4–7, ±110 %, both rules: a unit of 250 222 in a
    # band topping at 259 635 needs three light units, and its part of the 999-unit block
    # had none; no plan in 30 s): each block is repaired whole
    settled = settle_within_blocks(
        problem, data, k, labels, codes, clock=clock, deadline=deadline,
        max_work=work(min(REPAIR_SHARE * nominal, REPAIR_MAX_S), REPAIR_WORK_PER_S))
    return None if settled is None else (settled, 0.0, codes)


def settle_within_blocks(problem: Problem, data: ModelData, k: int, labels: list[int],
                         codes: np.ndarray, *, clock: Clock, max_work: float,
                         deadline: float) -> list[int] | None:
    """Pinned units placed (:func:`place_within_blocks`) and sizes and bands repaired
    (:func:`repair_within_blocks`), no unit leaving its block; None when a pinned group
    cannot be placed, a violation is left or a cluster was emptied.

    Shared by the blocks' start and the current grouping under one_region /
    one_function (:func:`optimizer.move_cost_search.current_start`).
    """
    locked = locked_units(data)
    if locked.any():
        placed = place_within_blocks(data, labels, k, codes)
        if placed is None:
            return None
        labels = placed
    labels, violation = repair_within_blocks(problem, data, k, labels, codes, free=~locked,
                                             clock=clock, max_work=max_work, deadline=deadline)
    return labels if violation == 0.0 and len(set(labels)) == k else None


def place_within_blocks(data: ModelData, labels: list[int], k: int,
                        codes: np.ndarray) -> list[int] | None:
    """:func:`optimizer.local_search.place_locked`, kept inside the blocks; None when a
    together group or a fixed label spans two blocks, or an apart member has no cluster
    of its own block free of its group."""
    for group in [*data.blocks, *([i for i, f in enumerate(data.fixed) if f == label]
                                 for label in data.fixed_labels)]:
        if len({int(codes[i]) for i in group}) > 1:
            return None
    lab = np.asarray(place_locked(data, labels, k), dtype=np.int64)
    cluster_block = np.full(k, -1, dtype=np.int64)
    cluster_block[np.asarray(labels, dtype=np.int64)] = codes
    for group in data.apart:
        for i in group:
            if cluster_block[lab[i]] == codes[i]:
                continue
            taken = {int(lab[j]) for j in group if j != i}
            size = np.bincount(lab, minlength=k)
            own = [c for c in np.argsort(size, kind="stable").tolist()
                   if cluster_block[c] == codes[i] and c not in taken]
            if not own:
                return None
            lab[i] = own[0]
    return lab.tolist() if within_blocks(lab, codes) else None


def repair_within_blocks(problem: Problem, data: ModelData, k: int, labels: list[int],
                         codes: np.ndarray, *, free: np.ndarray, clock: Clock, max_work: float,
                         deadline: float) -> tuple[list[int], float]:
    """Sizes and bands repaired block by block, so no unit leaves its block."""
    from optimizer.repair import balance_arrays, repair_arrays

    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    lab = np.asarray(labels, dtype=np.int64).copy()
    violation = 0.0
    for code in np.unique(codes).tolist():
        units = np.flatnonzero(codes == code)
        clusters, local = np.unique(lab[units], return_inverse=True)
        fixed, left, _ = repair_arrays(
            X[units], V[units], lo, hi, mean, rules.min_size or 1, rules.max_size or data.n,
            local.astype(np.int64), len(clusters), movable=free[units],
            allowance=max_work * len(units) / data.n, end=deadline, clock=clock)
        lab[units] = clusters[fixed]
        violation += left
    return lab.tolist(), violation
