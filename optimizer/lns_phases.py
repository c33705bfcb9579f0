"""Phases of the large path between its first start and the model: other starts, regions.

Why apart from :mod:`optimizer.lns`: that module orders the phases and keeps
the time; these are the phases themselves — regional flow restarts (sizes
only), regional restarts and annealing (bands), and
the per-block start of one_region / one_function. Each takes its allowance in
work units (:mod:`optimizer.budget`), so the plan does not depend on the
machine's speed.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.budget import LP_WORK_PER_S, Clock, work
from optimizer.data import ModelData
from optimizer.flow_assign import regional_restarts
from optimizer.local_search import locked_units
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


def banded_anneal(problem, data, k, labels, deadline, clock, max_work, blocks=None):
    """Bands: annealing over disjoint cluster pairs (:func:`optimizer.anneal.anneal`)."""
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
    """one_region / one_function without pinned units: each block solved on its own.

    None (the generic start runs) when the rules do not split the table, when
    units are pinned (fixed / together / apart: the blocks' solver ignores
    them), or when the blocks yield no plan meeting sizes and bands. Else the
    labels, the violation (0) and each unit's block, which the later searches
    keep (under one_function units of several functions may have been moved
    between blocks: :func:`optimizer.rule_groups.share_multi_function_units`).
    """
    from optimizer.rule_groups import grouped_start, share_multi_function_units
    from optimizer.seed import features_in_unit_order, rule_blocks

    rules = problem.rules
    if not (rules.one_region or rules.one_function) or locked_units(data).any() or data.apart:
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
    if out is None or out[1] != 0.0:
        return None
    codes = np.zeros(data.n, dtype=np.int64)
    for code, units in enumerate(blocks):
        codes[units] = code
    return out[0], out[1], codes
