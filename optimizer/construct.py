"""A plan that meets the size and balance rules, as homogeneous as a few LPs make it.

Why: local search only polishes; where it ends depends on where it starts.
Repairing KMeans-like seeds unit by unit leaves big units stranded (dispersion
0.38–0.65 at 3 300 units), while the LP over (unit, centre) pairs with the
bands as rows places them all at once. Alternating that LP with centre
updates is k-means-constrained's method, extended to balance; a sparse LP
(each unit's nearest centres) keeps it cheap beyond ``LP_MAX_PAIRS``, and the
arcs of a plan already meeting the rules keep that LP feasible.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.budget import (
    FLOW_WORK_PER_S,
    LP_WORK_PER_S,
    REPAIR_WORK_PER_S,
    Clock,
    work,
)
from optimizer.data import ModelData
from optimizer.decompose import decompose_balanced
from optimizer.interrupts import RoundsInterrupted, StartInterrupted
from optimizer.local_search import sse
from optimizer.problem import Problem
from optimizer.repair import (
    LP_MAX_PAIRS,
    greedy_balanced,
    lp_balanced,
    repair_balance,
)
from optimizer.rule_groups import region_groups

#: Share of the time left for the balance repair, and its cap in seconds.
REPAIR_SHARE = 0.25
REPAIR_MAX_S = 120.0
#: Sparse LP start: centres per unit, most units × centres, share of the time left.
#: Since the rounds re-solve warm (optimizer/band_lp.py: ~1 nominal s a round
#: after the first few at 3 300 units) they are the search's best use of time
#: there: 3 300 units F, 60 s, share 0.4 / 0.6 / 0.8 → seed 0 0.33792 / 0.33765 /
#: 0.33698, seed 2 0.34014 / 0.34082 / 0.34008 (at 0.6 and 0.8 the annealing no
#: longer fits, and the regional restarts take its time; it had gained nothing
#: on seed 0 from the better start). The dense LP at 700 units converges within
#: either share. Through scipy (cold rounds of ~3 s) 0.2 and 0.4 did alike.
SPARSE_NEAREST = 20
SPARSE_LP_MAX_PAIRS = 400_000
SPARSE_LP_SHARE = 0.8
#: ... and only when clusters average at least this many units. The rounds move
#: centres k-means-style, which pays for large clusters; small ones gain more from
#: the local search and annealing that the rounds' time would buy (the rounds took
#: 11–25 s of a 30 s limit and the annealing never ran). Measured, 3 300 units, 30 s,
#: a `cumkhoi sample` table, similarity function / location / population, ±55 %,
#: objective with → without the rounds: mean size 6 1 355 → 1 197 (function and
#: population alone 1 943 → 1 063), 10 1 355 → 1 267, 13 1 380 → 1 299, but 16.5
#: 1 311 → 1 410; scenario F (±10 %) mean size 22 dispersion 0.325 → 0.332, 33
#: 0.337 → 0.342 (all before the annealing's per-pair charge; after it, mean size 6
#: 1 355 → 1 230, 10 1 355 → 1 281). Mean size 20: 1 467 with them, 1 424 without —
#: the band 15–20 is mixed.
LP_MIN_MEAN_SIZE = 15
#: From this many units (and beyond the dense LP) the balanced start splits the
#: table into groups of whole clusters (:mod:`optimizer.decompose`), with this
#: share of the time: biggest-first dealing left 458 of 500 clusters outside
#: their band at 50 000 units, and the repair never caught up. (0.5: at
#: 10 000 units the regrouping passes gained more than CP-SAT LNS, 0 gains.)
DECOMPOSE_MIN_UNITS = 5_000
DECOMPOSE_SHARE = 0.5
#: LP assignment / centre update rounds at most (they stop when nothing changes).
LP_ROUNDS = 30
#: Sizes only: share of the nominal time for the flow alternation (it converges
#: in ~0.1 s of nominal work at 700 units, ~3 s at 10 000 — the share is a cap).
FLOW_SHARE = 0.3
#: A phase's safety stop is this many times its nominal share (plus 1 s).
SAFETY_FACTOR = 3.0


def balanced_start(
    problem: Problem, data: ModelData, k: int, seed_labels: list[int], deadline: float,
    *, seconds: float | None = None, clock: Clock | None = None,
) -> tuple[list[int], float]:
    """A plan meeting sizes and bands (violation 0) or the least violating one found.

    First a plan that meets the rules fast: the dense LP start (up to
    ``LP_MAX_PAIRS``) or biggest-first dealing, repaired; without balance the
    seed, repaired to the sizes. Then alternating LP assignment and centre
    updates (k-means-constrained's idea, with the bands as LP rows) on each
    unit's nearest centres plus that plan's arcs, so the LP is feasible, in a
    share of the time; kept when, repaired, it is more homogeneous. Measured
    (60 s, seed 0): F 3 300 0.384 → 0.344; S 3 300 0.087 → 0.080 (10 rounds).

    ``seconds`` is the nominal time of this phase: every share of it becomes a
    work allowance (:mod:`optimizer.budget`), so the result does not depend on
    the machine's speed; ``deadline`` (wall clock) is only a safety stop,
    recorded on ``clock``. Without ``seconds`` the time left is the nominal time.
    """
    nominal = seconds if seconds is not None else max(deadline - time.monotonic(), 0.0)
    budget = min(REPAIR_SHARE * nominal, REPAIR_MAX_S)

    def safety(share: float) -> float:
        # generous: the allowance decides; this only keeps a runaway phase in the limit
        return max(min(deadline - time.monotonic(), SAFETY_FACTOR * share + 1.0), 0.05)

    def repair(start: list[int], share: float) -> tuple[list[int], float]:
        return repair_balance(problem, data, k, start, seconds=safety(share), clock=clock,
                              max_work=work(share, REPAIR_WORK_PER_S))

    def lp(**kw) -> list[int] | None:
        share = SPARSE_LP_SHARE * nominal
        return lp_balanced(problem, data, k, seed_labels, rounds=LP_ROUNDS, seconds=safety(share),
                           max_work=work(share, LP_WORK_PER_S), clock=clock, **kw)

    def decomposed(groups) -> tuple[list[int], float] | None:
        share = DECOMPOSE_SHARE * nominal
        split = decompose_balanced(problem, data, k, max_work=work(share, LP_WORK_PER_S),
                                   seconds=safety(share), clock=clock, groups=groups)
        if split is None:
            return None
        labels, violation = split
        return repair(labels, budget / 2) if violation > 0.0 else (labels, violation)

    def out_of_time() -> bool:
        # past the count's own deadline no further attempt can finish in time (each
        # begins with LP rounds or a dealing that cannot stop: 50 000 units in 7 000
        # clusters, 10 s, tried three in turn and returned at 25 s)
        return clock is not None and clock.expired()

    labels, violation = seed_labels, math.inf
    if not data.balance:
        flowed = _flow_start(problem, data, k, seed_labels, nominal, deadline, clock)
        if flowed is not None:
            return flowed, 0.0
        labels, violation = repair(seed_labels, budget)
    else:
        # region a similarity criterion: decomposed by region first, at any size
        # (60 s, ±30 %: 700 units 111.4 → 106.8, 3 300 units 314.3 → 290.1)
        groups = region_groups(problem, data, k)
        split = None if groups is None else decomposed(groups)
        if split is not None and split[1] == 0.0:
            return split
        if out_of_time():
            return split or (labels, violation)
        if data.n * k <= LP_MAX_PAIRS:
            try:
                start = lp() or seed_labels
            except RoundsInterrupted as cut:
                if cut.labels is None:
                    raise
                # Ctrl-C in the LP rounds: their last rounding, repaired, is the plan
                labels, violation = repair(cut.labels, budget / 2)
                raise StartInterrupted(np.asarray(labels), violation) from None
            labels, violation = repair(start, budget / 2)
            if violation == 0.0:
                return labels, violation
        elif data.n >= DECOMPOSE_MIN_UNITS:
            split = decomposed(None)
            if split is not None:
                labels, violation = split
                if violation == 0.0:
                    # the sparse LP below improved 0.354 → 0.350 at 10 000 units but
                    # its first round alone cost 58 nominal s of a 60 s limit
                    return labels, violation
    if out_of_time():
        return labels, violation
    if violation > 0.0 and data.balance:
        # biggest-first dealing is less homogeneous but rarely leaves a violation
        greedy = greedy_balanced(problem, data, k, seed_labels)
        labels, violation = repair(greedy, budget / 2)
        if violation > 0.0 and not out_of_time():
            # without a plan that meets the rules nothing later can start: keep repairing
            labels, violation = repair(labels, 0.5 * nominal)
    if out_of_time():
        return labels, violation
    if (violation == 0.0 and data.n * min(k, SPARSE_NEAREST) <= SPARSE_LP_MAX_PAIRS
            and data.n >= LP_MIN_MEAN_SIZE * k):
        nearest = None if data.n * k <= LP_MAX_PAIRS else SPARSE_NEAREST
        try:
            sparse = lp(nearest=nearest, keep=labels)
            if sparse is not None:
                fixed, left = repair(sparse, budget / 2)
        except KeyboardInterrupt:
            # Ctrl-C in the improving LP rounds: the plan in hand meets sizes and bands
            raise StartInterrupted(np.asarray(labels), 0.0) from None
        if sparse is not None:
            X = np.asarray(problem.features.values, dtype=np.float64)
            if left == 0.0 and sse(X, np.asarray(fixed), k) < sse(X, np.asarray(labels), k):
                return fixed, left
    return labels, violation


def _flow_start(
    problem: Problem, data: ModelData, k: int, seed_labels: list[int], nominal: float,
    deadline: float, clock: Clock | None,
) -> list[int] | None:
    """Sizes only: k-means-constrained's alternation, by sparse min-cost flow.

    Why: for fixed centres the flow gives the best assignment meeting the sizes
    (the repair only makes the seed feasible); measured at 3 300 units, seed 0:
    0.081 in ~1 s against 0.087 repaired. None (the repair path runs) when a
    rule other than the sizes is present — the flow knows only the sizes.
    """
    from optimizer.flow_assign import best_of_starts, flow_allowed

    rules = problem.rules
    if not flow_allowed(problem, data):
        return None
    X = np.asarray(problem.features.values, dtype=np.float64)
    share = FLOW_SHARE * nominal
    end = min(deadline, time.monotonic() + SAFETY_FACTOR * share + 1.0)
    result = best_of_starts(X, seed_labels, k, rules.min_size or 1, rules.max_size or data.n,
                            seed=problem.settings.seed, max_work=work(share, FLOW_WORK_PER_S),
                            deadline=end, clock=clock)
    return None if result is None else result.labels.tolist()
