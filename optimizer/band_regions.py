"""Regional restarts under balance bands: re-cluster a few neighbouring clusters from scratch.

Why: with bands the local search ends in the optimum of its start's basin,
and whole-table restarts from other seeds did not help (700 units F, seed
0: 5 restarts, none kept). The regional flow restarts that work for sizes
only (:mod:`optimizer.flow_assign`) carry over: take a cluster and its
nearest few, draw fresh k-means++ centres for their units, alternate the
balanced LP assignment with centre updates (the same LP as the start, with
the whole table's bands as rows — :func:`optimizer.decompose.lp_rounds`),
repair, and keep the result when every band holds and the region's sum of
squares drops. The rest of the plan never changes, so every rule still
holds. Measured (seed 0, from the start + local search): 700 units
0.3644 → 0.3589 in 20 s with regions of 4 clusters (2: 0.3628, 3: 0.3603,
5: 0.3593, 6: 0.3595, 8: 0.3596, 12: 0.3596); 3 300 units 0.3427 → 0.3405
in 30 s.

Determinism: regions are led by every cluster once per sweep in an order
drawn from ``seed``; the k-means++ draws come from the same generator; the
search stops on its work allowance (LP rounds and repair steps, see
:mod:`optimizer.budget`) or after ``max_stall`` tries without gain — the
wall clock only stops it, marked on ``clock``.
"""

from __future__ import annotations

import math

import numpy as np

from optimizer.budget import BAND_REGION_WORK_PER_S, LP_WORK_PER_S, Clock
from optimizer.decompose import lp_rounds
from optimizer.flow_assign import RegionStats, search_regions
from optimizer.repair import repair_arrays

#: Clusters re-clustered together by one try (measured above: 4 was best at 700 units).
BAND_REGION_CLUSTERS = 4
#: LP assignment / centre rounds per try at most (they stop when the labels settle).
BAND_REGION_ROUNDS = 10
#: LP rounds are charged the LP work they cost (:mod:`optimizer.band_lp`, warm
#: rounds: simplex iterations × columns plus a set-up per column and per round),
#: converted to this phase's units. Through scipy a round cost ~2.4 ms + 8.6 µs a
#: column (4.3 ms at 56 units of a 700-unit table, ~17 ms at 400 of 50 000) and
#: was charged 10 000 + 35 a column.
#: Work charged per repair step (measured 0.35–0.39 ms a step at 56–200 units).
STEP_WORK = 1_500
#: Work charged per draw of a region, skipped tries included (the whole table's
#: cluster means and a membership scan, :class:`optimizer.flow_assign.RegionPicker`;
#: ``search_regions``' ``draw_work``): this plus one per unit of the table (measured 1.4 / 1.8 / 2.9 / ~12 ms at 700 / 3 300 /
#: 10 000 / 50 000 units).
DRAW_WORK = 5_000
#: Repair allowance per try, in the repair's work units (budget.REPAIR_WORK_PER_S:
#: ~40 steps at a 4-cluster region of 700 units since the repair's overheads are
#: charged, ~10 times more before; 700 units F seed 0 ran the same 393 tries, 14
#: kept, either way); a repair step is charged here at STEP_WORK.
TRY_REPAIR_WORK = 200_000
#: Tries in a row without a gain that end the search, in sweeps over the clusters.
STALL_SWEEPS = 8


def band_region_restarts(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray,
    labels: list[int] | np.ndarray, k: int, min_size: int, max_size: int, *, seed: int,
    region: int = BAND_REGION_CLUSTERS, max_work: float | None = None,
    deadline: float = math.inf, clock: Clock | None = None, frozen: np.ndarray | None = None,
    blocks: np.ndarray | None = None,
) -> tuple[np.ndarray, RegionStats]:
    """Regional restarts from ``labels`` (meeting sizes and bands); returns labels and stats.

    ``V``/``lo``/``hi``/``mean`` are :func:`optimizer.repair.balance_arrays`'s
    (the bands with their margins). ``max_work`` is in work units at
    :data:`optimizer.budget.BAND_REGION_WORK_PER_S` (charged on ``clock``).
    Regions holding a ``frozen`` unit, or spanning two ``blocks``, are left as they are.
    """
    def try_region(units: np.ndarray, start: np.ndarray) -> tuple[np.ndarray | None, float]:
        sub = X[units]
        new, lp_work = lp_rounds(sub, V[units], lo, hi, region, min_size, max_size, start,
                                 BAND_REGION_ROUNDS)
        new, left, steps = repair_arrays(sub, V[units], lo, hi, mean, min_size, max_size, new,
                                         region, allowance=TRY_REPAIR_WORK)
        work = lp_work * (BAND_REGION_WORK_PER_S / LP_WORK_PER_S) + steps * STEP_WORK
        return (new if left == 0.0 else None), work

    X = np.asarray(X, dtype=np.float64)
    region = min(region, k)
    return search_regions(X, labels, k, region, seed, try_region, stall_limit=STALL_SWEEPS * k,
                          max_work=max_work, rate=BAND_REGION_WORK_PER_S, deadline=deadline,
                          clock=clock, frozen=frozen, blocks=blocks,
                          draw_work=DRAW_WORK + len(X))
