"""Phases of the large path between its first start and the model: other starts, regions.

Why apart from :mod:`optimizer.lns`: that module orders the phases and keeps
the time; these are the phases themselves — regional flow restarts (sizes
only), whole-table starts from other seeds and regional restarts (bands), and
the per-block start of one_region / one_function. Each takes its allowance in
work units (:mod:`optimizer.budget`), so the plan does not depend on the
machine's speed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from optimizer.budget import LP_WORK_PER_S, LS_WORK_PER_S, Clock, work
from optimizer.construct import balanced_start
from optimizer.data import ModelData
from optimizer.flow_assign import regional_restarts
from optimizer.local_search import improve, locked_units, sse
from optimizer.problem import Problem

#: one_region / one_function: share of the nominal time for the per-block start
#: (300 sample units, 50 clusters: 0.4 s of work; the share is a cap).
GROUPED_SHARE = 0.3
#: Balanced starts from other seeds after the first (bands, no pinned units):
#: at most this many, each only while a whole start's allowance is left.
MAX_RESTARTS = 8
#: Share of the time left after the repair for the local search (it usually ends sooner).
LOCAL_SEARCH_SHARE = 0.5


def regional(problem, data, k, labels, deadline, clock, max_work):
    """Sizes only: regional flow restarts (:func:`optimizer.flow_assign.regional_restarts`)."""
    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    lab, stats = regional_restarts(X, np.asarray(labels), k, rules.min_size or 1,
                                   rules.max_size or data.n, seed=problem.settings.seed,
                                   max_work=max_work, deadline=deadline, clock=clock)
    return lab.tolist(), stats


def band_regions(problem, data, k, labels, deadline, clock, max_work):
    """Bands: regional restarts (:func:`optimizer.band_regions.band_region_restarts`)."""
    from optimizer.band_regions import band_region_restarts
    from optimizer.repair import balance_arrays

    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    lab, stats = band_region_restarts(X, V, lo, hi, mean, labels, k, rules.min_size or 1,
                                      rules.max_size or data.n, seed=problem.settings.seed,
                                      max_work=max_work, deadline=deadline, clock=clock)
    return lab.tolist(), stats


def restarts(problem: Problem, data: ModelData, k: int, labels: list[int], nominal: float,
              left: Callable[[], float], one: float, deadline: float,
              clock: Clock) -> tuple[list[int], tuple[int, int]]:
    """Balanced starts from other seeds, each followed by the local search; the best kept.

    Why: with bands the local search ends in the optimum of its start's
    basin, and the CP-SAT rounds after it gained nothing (10 rounds at 700
    units), while starts from other k-means seeds land 1–4 % apart (700 units,
    seeds 0–2: 0.364 / 0.349 / 0.347). Each restart gets the first start's
    allowances (``nominal``), so it costs about ``one`` nominal seconds; they
    run while that much is left, at most :data:`MAX_RESTARTS` — a count, so
    the plan stays the same on a rerun; the clock only stops them.
    Returns the labels and ``(tried, kept)``.
    """
    from optimizer.search import _seed_labels

    X = np.asarray(problem.features.values, dtype=np.float64)
    best, best_sse = labels, sse(X, np.asarray(labels), k)
    tried = kept = 0
    while tried < MAX_RESTARTS and one > 0 and left() >= one and not clock.expired(0.5):
        tried += 1
        settings = dataclasses.replace(problem.settings, seed=problem.settings.seed + tried)
        other = dataclasses.replace(problem, settings=settings)
        start, violation = balanced_start(other, data, k, _seed_labels(other, k), deadline,
                                          seconds=nominal, clock=clock)
        if violation != 0.0:
            continue
        start, _ = improve(problem, data, k, start, deadline=deadline, clock=clock,
                           max_work=work(LOCAL_SEARCH_SHARE * left(), LS_WORK_PER_S))
        value = sse(X, np.asarray(start), k)
        if value < best_sse * (1.0 - 1e-12):
            best, best_sse, kept = start, value, kept + 1
    return best, (tried, kept)


def grouped(problem: Problem, data: ModelData, k: int, nominal: float, deadline: float,
             clock: Clock) -> tuple[list[int], float] | None:
    """one_region / one_function without pinned units: each block solved on its own.

    None (the generic start runs) when the rules do not split the table, when
    units are pinned (fixed / together / apart: the blocks' solver ignores
    them), or when the blocks yield no plan meeting sizes and bands.
    """
    from optimizer.rule_groups import grouped_start
    from optimizer.seed import features_in_unit_order, rule_blocks

    rules = problem.rules
    if not (rules.one_region or rules.one_function) or locked_units(data).any() or data.apart:
        return None
    blocks = rule_blocks(problem, features_in_unit_order(problem))
    if len(blocks) < 2:
        return None
    share = GROUPED_SHARE * nominal
    out = grouped_start(problem, data, k, blocks, max_work=work(share, LP_WORK_PER_S),
                        seconds=max(min(deadline - time.monotonic(), 3.0 * share + 1.0), 0.05),
                        clock=clock)
    return out if out is not None and out[1] == 0.0 else None
