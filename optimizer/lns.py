"""Large tables: a balanced start, local search, then large-neighbourhood search.

Why: a model with every (unit, medoid) pair has n² variables — 11 M at 3 300
units — and the measured dense models ran out of time and memory
(``benchmark-findings.md``). Here, per cluster count:

1. **Balanced start** (:func:`_balanced_start`). A plan meeting sizes and bands
   fast (dense LP start up to ``LP_MAX_PAIRS``, else biggest-first dealing;
   then :func:`optimizer.repair.repair_balance`), improved by alternating LP
   assignment and centre updates on each unit's nearest centres plus that
   plan's arcs (feasible by construction).
2. **Local search** (:mod:`optimizer.local_search`) on the within-cluster sum
   of squares — the dispersion users and the benchmark see — keeping every
   rule. When its plan passes ``check_plan`` the restricted model is skipped.
   With bands, **regional restarts** (:mod:`optimizer.band_regions`) follow,
   then **annealing** over disjoint cluster pairs (:mod:`optimizer.anneal`)
   and a last local search. A stability weight is ignored by these phases and
   priced by a last one (:mod:`optimizer.move_cost_search`); ``max_moves``
   starts from the (repaired) current grouping, searched within the budget.
   Under one_region / one_function the start is the blocks' own
   (:mod:`optimizer.rule_groups`) and every phase stays inside each block.
3. Otherwise (contiguity, one_region/one_function whose blocks yield no start, or no
   balanced plan found) the **restricted model**: each seed cluster offers a
   few candidate medoids, each unit may join only its nearest ones plus its
   seed cluster's; doubled when it has no plan (a pruned model's
   infeasibility proves nothing about the scenario and is never reported).
4. **Large-neighbourhood search** (:mod:`optimizer.neighbourhood`). Repeatedly free a cluster and its nearest
   clusters and re-solve that sub-problem *exactly* (every pair, the whole
   table's balance band, the same rules) with the rest fixed. A sub-plan is
   kept if it lowers the sum of squares (after a local search) or the medoid
   objective (otherwise); a last local search follows.

Sizes only (no bands, pairwise rules, graph or current grouping —
:func:`optimizer.flow_assign.flow_allowed`): the start is k-means-constrained's
flow alternation, the local search is followed by **regional flow restarts**
until a sweep over the clusters gains nothing, annealing when clusters average
``SIZES_ANNEAL_MAX_MEAN_SIZE`` (12) units or fewer, and a last local search; the
restricted model and the CP-SAT LNS are skipped (measured, seed 0, 60 s: LNS
found 0 gains in 13 rounds at 700 units and 10 at 3 300, for 24–52 s).

Determinism: with one worker the same input, scenario and seed give the same
plan. Every phase's allowance derives from the nominal time limit and the work
already charged (:mod:`optimizer.budget`), CP-SAT sub-solves stop on
deterministic time, and the wall clock is only a safety stop —
``details["clock_stopped"]`` and a plan note say when it ended a phase.

Bounds: the restricted model's bound holds for the restricted model only and
is recorded as ``details["restricted_bound"]``; ``Plan.bound`` is valid for every
plan of the scenario: the Lagrangian bound of :mod:`optimizer.bound` (sizes,
count and balance bands kept, run on the final plan with its own share of the
nominal time), never below the nearest-neighbour bound, so ``bound_scope`` is
``"full"`` and the gap is honest. The reported objective is always the documented
medoid objective of the final partition (``solve._finish``). LNS is skipped
when ``max_moves`` or a stability weight couple all clusters through the
current grouping.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.neighbors import NearestNeighbors

from features.types import FeatureMatrix
from optimizer.anneal import AnnealStats, affordable_rounds, min_rounds
from optimizer.bound import (
    BOUND_SHARE,
    BOUND_WORK_PER_S,
    TOPUP_FACTOR,
    TOPUP_GAP,
    BoundResult,
    lagrangian_bound,
    size_window,
    useful_work,
)
from optimizer.budget import (
    ANNEAL_WORK_PER_S,
    BAND_REGION_WORK_PER_S,
    DTIME_PER_S,
    LS_WORK_PER_S,
    REGION_WORK_PER_S,
    REPAIR_WORK_PER_S,
    Clock,
    bound_seconds,
    work,
)
from optimizer.candidates import Candidates, restricted_candidates
from optimizer.check import partition_passes
from optimizer.column_bound import (
    COLUMN_BOUND_WORK_PER_S,
    REST_SHARE,
    balanced_feature_columns,
    decomposed_bound,
    incumbent_value,
    other_columns,
)
from optimizer.construct import REPAIR_MAX_S, REPAIR_SHARE, balanced_start
from optimizer.contiguous_repair import contiguous_start
from optimizer.data import ModelData
from optimizer.flow_assign import DENSE_DISTANCES_MAX, RegionStats, flow_allowed
from optimizer.interrupts import BoundInterrupted, PhaseInterrupted, StartInterrupted
from optimizer.lns_phases import (
    LOCAL_SEARCH_SHARE,
    band_regions,
    grouped,
    pair_annealing,
    regional,
)
from optimizer.local_search import (
    SearchStats,
    improve,
    local_search_allowed,
    locked_units,
    place_locked,
    within_blocks,
)
from optimizer.model import build_model
from optimizer.move_cost_search import (
    TradeStats,
    always_moved,
    current_start,
    home_clusters,
    rule_codes,
    trade_moves,
)
from optimizer.neighbourhood import lns_rounds
from optimizer.objective import COST_SCALE, central_members, move_cost, pair_distances
from optimizer.precheck import forced_moves
from optimizer.problem import Problem
from optimizer.repair import repair_balance
from optimizer.seed import features_in_unit_order

#: Candidate medoids per seed cluster and candidate medoids per unit (doubled on failure).
MEDOIDS_PER_CLUSTER = 3
NEAREST_MEDOIDS = 6
#: The restricted model is widened (candidates doubled) at most this many times.
MAX_WIDENINGS = 8
#: With a stability weight: share of the nominal time held back for pricing the
#: moves (:mod:`optimizer.move_cost_search`) after the fresh plan's phases.
TRADE_SHARE = 0.4
#: Share of the remaining time for the restricted model; LNS gets the rest.
RESTRICTED_SHARE = 0.2
#: Under a move budget, the share of the nominal time the repair of the current
#: grouping may take before the fresh start is tried (the repair stops as soon as
#: the rules hold, so a larger share changes nothing where it succeeded). It was
#: the fresh start's repair share, 0.25: 20 000 units in 2 498 current groups of 8
#: brought to 3 333 clusters (±115 %, max_moves 15 000, 30 s) stopped at violation
#: 152 and the fresh plan moved too many units: no plan; the repair needs ~12 of
#: the ~25 nominal s and finds one.
CURRENT_REPAIR_SHARE = 0.6
#: Time kept for solve's finishing steps, per unit (measured ~0.6 s at 10 000 units, loaded).
FINISH_S_PER_UNIT = 1e-4
#: ... but at most this share of the count's time. It was 0.1: 50 000 units in 10 s kept
#: 1 s, the finishing steps took 1.4 s and the plan came at 11.6 s. Binds only on large
#: tables under short limits (never in the benchmark: 50 000 units at 60 s keep 5.3 s).
FINISH_MAX_SHARE = 0.25
#: Sizes only: share of the nominal time for the regional flow restarts (a cap:
#: they end after a run of ``k`` tries without gain). Measured at 3 300 units,
#: seeds 0–2, 8 nearest arcs per unit in a region: 0.10 × 60 s → 0.0784 / 0.0785 /
#: 0.0803 in 6.5–7.0 s wall (k-means-constrained 0.0781 / 0.0799 / 0.0813 in
#: 20–24 s); 0.15 with every arc in a region took 8.1–8.7 s for 0.0778 / 0.0783 / 0.0804.
REGION_SHARE = 0.10
#: Sizes only, clusters averaging at most this many units: the annealing
#: (:mod:`optimizer.anneal`, no band) follows the regional restarts with
#: ANNEAL_SPEND of the time left.
SIZES_ANNEAL_MAX_MEAN_SIZE = 12
#: Bands: share of the nominal time left after the first search for the
#: regional restarts (:mod:`optimizer.band_regions`; a cap: they end after sweeps
#: without gain), then the share of what remains for the annealing
#: (:mod:`optimizer.anneal`). Measured, 60 s, dispersion of the benchmark's F
#: (seeds 0–2) and objective of the planner's scenario (seed 0; population a
#: band, not a criterion):
#:
#: ==========================================  ================  ================  ========  ========
#: phases after the first search               F 700 (median)    F 3 300 (median)  plan 700  plan 3300
#: ==========================================  ================  ================  ========  ========
#: whole-table restarts, regional restarts     0.3452            0.3404            136.2     375.5
#: annealing 0.6                               0.3406            0.3398            129.2     380.8
#: regional 0.4, annealing 0.5                 0.3420            0.3401            130.5     371.4
#: regional 0.25, annealing 0.6 (kept)         0.3407            0.3401            129.4     377.2
#: ==========================================  ================  ================  ========  ========
#:
#: Re-measured after the restarts' tries were charged at their measured cost (F, seeds
#: 0–2): 0.25 gave 0.3415 / 0.3405 (medians at 700 / 3 300), 0.33 gave 0.3410 / 0.3400
#: — noise; kept.
BAND_REGION_SPEND = 0.25
ANNEAL_SPEND = 0.6
#: ... and the regional restarts' share when the annealing's would not pay for
#: :func:`optimizer.anneal.min_rounds` rounds (50 000 units, K = 500, 600 s:
#: 0.309 in 429 s this way against 0.3105 in 287 s with 2 000 rounds of annealing;
#: with the restarts' tries charged at their measured cost, 0.3105–0.3111 in 420–453 s
#: over seeds 0–2).
BAND_REGION_ALONE = 0.8
#: Wall seconds that must be left for the restricted model to be built at all:
#: this much for CP-SAT plus the build's own time per candidate (unit, medoid)
#: pair (10 000 units in 1 250 clusters, 60 000 pairs: 2.2 s to list and build;
#: built with too little time left, a 5-s feasibility check took 7.7 s).
RESTRICTED_MIN_S = 0.5
RESTRICTED_S_PER_PAIR = 4e-5
#: The decomposed bound adds each part's own minimum. Where the parts pull apart (a
#: band too wide to bind, so the balanced column alone clusters cheaply) that sum is
#: far below every plan, while the Lagrangian over all the columns at once sees the
#: pull. It also runs when the gap is still ``TOPUP_GAP`` or more and the column bound
#: is at most this share of the plan's own cost on the balanced columns (the sign of
#: that pull), and its neighbour search (which cannot stop) fits. Measured, 30 s,
#: ``cumkhoi init``'s scenarios on ``cumkhoi sample`` tables (clusters of 4–8), gap
#: before → after: population ±105 % (700 units) 0.77 → 0.29, ±135 % (3 300) 0.81 →
#: 0.55, ±135 % (10 000) 0.86 → 0.79, ±300 % (3 300) 0.90 → 0.45 — the column bound
#: 0.19–0.44 of the plan's column part; with ±45–55 % (1 500 / 3 300 units, four
#: scenarios) it is 0.67–0.71 of it and the all-columns bound came out lower (180–323
#: against 260–585), so it does not run there and those solves keep their wall time.
JOINT_COLUMN_SHARE = 0.5
#: The bound's top-up starts only with this many times the first run's wall time left.
TOPUP_WALL_FACTOR = 2.0
#: Wall seconds the nearest-neighbour bound takes per unit (measured: 3.7–4.7 s at
#: 50 000 units, 19 features, 2 cores). Past the bound's end it is skipped beyond
#: ~5 000 units and kept as the fallback below (:func:`_fits`).
NEAREST_BOUND_S_PER_UNIT = 1e-4
#: The most an unstoppable bound step may run past the bound's end; a step this
#: cheap always runs.
BOUND_STEP_LATE_S = 0.5
#: After Ctrl-C the lower bound gets at most this many nominal seconds (a weaker
#: but valid bound; the plan is what the planner asked for).
INTERRUPTED_BOUND_S = 2.0
#: Wall seconds of the column bound's first (unstoppable) step per unit (2.0 s at
#: 50 000 units in 7 000 clusters): like the nearest-neighbour bound, skipped only
#: when costly and late — below ~12 000 units it always runs.
COLUMN_STEP_S_PER_UNIT = 4e-5


def _restricted(
    problem: Problem, data: ModelData, seed_labels: list[int], hint: dict[int, int],
    per_cluster: int, nearest: int,
) -> Candidates:
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(seed_labels):
        groups.setdefault(c, []).append(i)
    medoids: set[int] = set(hint.values())
    for members in groups.values():
        medoids.update(central_members(problem.features, members, per_cluster)[0].tolist())
    med = sorted(medoids)
    values = np.asarray(problem.features.values, dtype=np.float64)
    if data.n * len(med) > DENSE_DISTANCES_MAX:
        # 50 000 units in 25 000 pairs: 75 000 candidate medoids, a 30 GB matrix
        tree = NearestNeighbors(n_neighbors=min(nearest, len(med))).fit(values[med])
        _, nearest_of = tree.kneighbors(values)
        return restricted_candidates(data, None, med, nearest, always=hint, nearest_of=nearest_of)
    sq = np.einsum("ij,ij->i", values, values)
    dist_to = sq[:, None] + sq[med][None, :] - 2.0 * values @ values[med].T
    return restricted_candidates(data, dist_to, med, nearest, always=hint)


def full_lower_bound(features: FeatureMatrix, n_clusters: int) -> int:
    """A bound valid for every plan: each non-medoid unit costs ≥ its nearest-neighbour distance."""
    values = np.asarray(features.values, dtype=np.float64)
    if len(values) <= n_clusters:
        return 0
    nn = NearestNeighbors(n_neighbors=2).fit(values)
    dist, _ = nn.kneighbors(values)
    d = np.sort(np.rint(dist[:, 1] ** 2 * COST_SCALE).astype(np.int64))
    return int(d[: len(d) - n_clusters].sum())


def solve_large(
    problem: Problem,
    data: ModelData,
    k: int,
    seed_labels: list[int],
    hint: dict[int, int],
    deadline: float,
    started: float,
    progress: Callable[..., None] | None,
    stop: threading.Event | None,
    *,
    nominal_s: float | None = None,
    with_bound: bool = True,
):
    """Restricted model then LNS for one cluster count; returns a solve ``_Outcome``.

    ``nominal_s`` is this count's share of the time limit: every phase's
    allowance derives from it (deterministic with one worker); ``deadline`` is
    the wall-clock safety stop, and ``extra["clock_stopped"]`` says whether it
    ended a phase. ``with_bound`` False skips the lower bound (``out.bound`` 0):
    the caller only wants the plan (:func:`optimizer.solve._solve_count` on small
    tables, whose exact search bounds it).
    """
    from optimizer.search import _medoids_of, _Outcome, _search

    now = time.monotonic()
    # every decision below follows the nominal time (budget.py); the deadline only stops
    nominal = nominal_s if nominal_s is not None else max(deadline - now, 0.0)
    # medoids, check_plan and the count choice run after this: keep time for them
    reserve = min(FINISH_S_PER_UNIT * data.n + 0.3, FINISH_MAX_SHARE * nominal)
    nominal -= reserve
    deadline -= min(reserve, FINISH_MAX_SHARE * max(deadline - now, 0.0))
    # the bound runs last, in its own share carved out of the phases' time, so
    # the whole count ends by its deadline (it overran by ~2.5 s of 60 s before)
    bound_nominal, bound_end = nominal, deadline
    nominal -= BOUND_SHARE * bound_nominal
    deadline -= min(BOUND_SHARE * bound_nominal, BOUND_SHARE * max(deadline - now, 0.0))
    clock = Clock(deadline, stop=stop)
    # a stability weight is priced by the last phase (trade_moves): its share is
    # held back from the phases that build the fresh plan
    phases = not problem.rules.contiguous and bool(
        data.balance or problem.rules.min_size or problem.rules.max_size)
    held = TRADE_SHARE * nominal if phases and problem.rules.stability_weight else 0.0
    nominal -= held

    def left() -> float:
        """Nominal seconds not yet charged to a phase's work (a count, not a clock)."""
        return max(nominal - clock.charged_s, 0.0)

    labels, violation = seed_labels, 0.0
    ls_stats: SearchStats | None = None
    trade: TradeStats | None = None
    region_stats: RegionStats | None = None
    anneal_stats: AnnealStats | None = None
    # phase ends (name, wall clock, nominal seconds charged so far), for details["phase_wall_s"]
    marks: list[tuple[str, float, float]] = [("", now, 0.0)]
    early = None
    blocks = None  # each unit's block when the start came from the blocks
    if phases and problem.rules.max_moves is not None and _current_known(data):
        # a move budget: the fresh start moves most units and was thrown away
        # (10 000 units, 1 500 clusters, max_moves 3 000: 8 s of 26), so the repaired
        # current grouping comes first and the fresh phases run only if it fails
        early = current_start(problem, data, k, clock=clock, max_work=work(
            min(CURRENT_REPAIR_SHARE * nominal, REPAIR_MAX_S), REPAIR_WORK_PER_S))
    # Ctrl-C during the phases below (numpy and HiGHS, no stop checks inside)
    # keeps the last phase's verified plan, or the cut phase's best plan so far when
    # it is verified and cheaper (PhaseInterrupted); ``stop`` is honoured between phases
    kept: list[int] | None = None
    interrupted = False
    reported = float("inf")

    def phase_done(mark: tuple[str, float]) -> None:
        """Record a phase's end; a plan passing every rule is kept, reported, and may stop.

        The progress line showed "looking for a first plan…" for the whole run
        before (a 50 000-unit F run: ~7 minutes) although a plan was in hand
        after the start, and ``stop`` waited for the end; each check costs the
        medoids and the rule check (0.2 s at 50 000 units).
        """
        nonlocal kept, reported
        marks.append((*mark, clock.charged_s))
        if violation != 0.0:
            return
        medoids = _medoids_of(problem, labels)
        medoid_of = [medoids[i] for i in range(data.n)]
        if not partition_passes(problem, data, medoid_of):
            return  # e.g. the start before its pinned units are placed
        kept = labels
        if progress is not None:
            from optimizer.search import ProgressEvent

            cost = pair_distances(problem.features, np.arange(data.n), np.asarray(medoid_of)).sum()
            if cost < reported:
                reported = cost
                progress(ProgressEvent(time.monotonic() - started, cost / COST_SCALE, 0.0))
        if stop is not None and stop.is_set():
            raise _StopRequested

    try:
        if early is not None:
            labels, violation = early, 0.0
            hint = _medoids_of(problem, labels)
            phase_done(("current_start", time.monotonic()))
        elif phases and clock.expired():
            # past the safety stop already (the current grouping failed at it, or the seed
            # took the time): the fresh start's LP rounds cannot stop inside a step, and
            # began past the limit (10 000 units, 1 500 clusters, max_moves 3 000, 5 s: no
            # plan either way, 8.4 s of wall)
            labels, violation = seed_labels, float("inf")
            phase_done(("no_time_left", time.monotonic()))
        # the repair ignores the graph: under contiguity the (connected) seed is the better hint
        elif phases:
            by_block = grouped(problem, data, k, nominal, deadline, clock)
            if by_block is not None:
                labels, violation, blocks = by_block
            else:
                labels, violation = balanced_start(problem, data, k, seed_labels, deadline,
                                                   seconds=nominal, clock=clock)
            phase_done(("start", time.monotonic()))
            locked = locked_units(data)
            if locked.any() and by_block is None:  # the blocks' start placed them itself
                labels = place_locked(data, labels, k)
                more = min(REPAIR_SHARE * left(), REPAIR_MAX_S)
                labels, violation = repair_balance(problem, data, k, labels, seconds=clock.left(),
                                                   free=~locked, clock=clock,
                                                   max_work=work(more, REPAIR_WORK_PER_S))
            # one_region / one_function from the blocks' start: every phase below keeps
            # each cluster inside its block (3 300 units, 100 clusters, ±30 %, 60 s:
            # one_function 444.2 in 48 s with the restricted model and LNS instead)
            within = blocks is not None
            # a stability weight is priced after these phases (trade_moves below)
            if violation == 0.0 and local_search_allowed(
                    problem, data, with_move_cost=True, within_blocks=within):
                labels, stats = improve(problem, data, k, labels, deadline=deadline, clock=clock,
                                        max_work=work(LOCAL_SEARCH_SHARE * left(), LS_WORK_PER_S),
                                        blocks=blocks)
                ls_stats = stats
                phase_done(("local_search", time.monotonic()))
                if flow_allowed(problem, data, within_blocks=within):
                    labels, region_stats = regional(problem, data, k, labels, deadline, clock,
                                                     work(REGION_SHARE * nominal, REGION_WORK_PER_S),
                                                     blocks=blocks)
                    phase_done(("regional", time.monotonic()))
                    if data.n <= SIZES_ANNEAL_MAX_MEAN_SIZE * k:
                        spend = work(ANNEAL_SPEND * left(), ANNEAL_WORK_PER_S)
                        if affordable_rounds(data.n, k, spend) >= min_rounds(data.n, k):
                            labels, anneal_stats = pair_annealing(
                                problem, data, k, labels, deadline, clock, spend, blocks=blocks)
                            phase_done(("anneal", time.monotonic()))
                    labels, stats = improve(problem, data, k, labels, deadline=deadline, clock=clock,
                                            max_work=work(LOCAL_SEARCH_SHARE * left(), LS_WORK_PER_S),
                                            blocks=blocks)
                    phase_done(("final_search", time.monotonic()))
                elif data.balance:
                    # the annealing runs only if its share pays for enough rounds;
                    # otherwise the regional restarts take its time too
                    expected = work((1 - BAND_REGION_SPEND) * ANNEAL_SPEND * left(), ANNEAL_WORK_PER_S)
                    annealing = affordable_rounds(data.n, k, expected) >= min_rounds(data.n, k)
                    spend = BAND_REGION_SPEND if annealing else BAND_REGION_ALONE
                    labels, region_stats = band_regions(
                        problem, data, k, labels, deadline, clock,
                        work(spend * left(), BAND_REGION_WORK_PER_S), blocks=blocks)
                    phase_done(("band_regions", time.monotonic()))
                    if annealing:
                        labels, anneal_stats = pair_annealing(
                            problem, data, k, labels, deadline, clock,
                            work(ANNEAL_SPEND * left(), ANNEAL_WORK_PER_S), blocks=blocks)
                        phase_done(("anneal", time.monotonic()))
                    labels, stats = improve(problem, data, k, labels, deadline=deadline, clock=clock,
                                            max_work=work(LOCAL_SEARCH_SHARE * left(), LS_WORK_PER_S),
                                            blocks=blocks)
                    phase_done(("final_search", time.monotonic()))
            nominal += held
            if ls_stats is not None and problem.rules.stability_weight:
                # the fresh plan ignores the weight: start from the cheaper of it and the
                # current grouping, then search with each move priced in; it takes all the
                # nominal time left, as the restricted model is skipped after it
                labels, trade = trade_moves(
                    problem, data, k, labels, deadline=deadline, clock=clock,
                    repair_work=work(min(REPAIR_SHARE * left(), REPAIR_MAX_S), REPAIR_WORK_PER_S),
                    search_work=work(left(), LS_WORK_PER_S), blocks=blocks)
                ls_stats = trade.search
                phase_done(("trade_moves", time.monotonic()))
            hint = _medoids_of(problem, labels)
    except (KeyboardInterrupt, _StopRequested) as caught:
        if isinstance(caught, StartInterrupted) and caught.violation == 0.0:
            # the decomposed start, cut short, still placed every unit within the bands
            medoids = _medoids_of(problem, caught.labels.tolist())
            if partition_passes(problem, data, [medoids[i] for i in range(data.n)]):
                kept = caught.labels.tolist()
        elif isinstance(caught, PhaseInterrupted):
            # an improving phase, cut short: its best plan so far, if verified and cheaper
            kept = _cut_plan(problem, data, caught.labels, kept) or kept
        if kept is None:  # no verified plan yet: nothing to keep
            raise
        labels, violation, interrupted = kept, 0.0, True
        hint = _medoids_of(problem, labels)
        marks.append(("interrupted", time.monotonic(), clock.charged_s))
    if problem.rules.contiguous and data.neighbors is not None:
        # flips and recoms that keep clusters connected: a hint meeting sizes and bands
        labels, violation, contig = contiguous_start(problem, data, k, seed_labels,
                                                     nominal_s=nominal, deadline=deadline, clock=clock)
        hint = _medoids_of(problem, labels)
        marks.append(("contiguous", time.monotonic(), clock.charged_s))
    phase_share = RESTRICTED_SHARE
    per, near = MEDOIDS_PER_CLUSTER, NEAREST_MEDOIDS
    widened = 0
    direct = violation == 0.0 and partition_passes(problem, data, [hint[i] for i in range(data.n)])
    from_current = early is not None
    if not direct and not interrupted and not _lns_allowed(problem) and _current_known(data):
        # max_moves / stability: the current grouping (brought to k clusters, see
        # current_labels) moves the fewest units; once its pinned units are placed and
        # sizes and bands repaired (moving only the units those steps take) it is the
        # verified plan to start from, if it meets every rule
        # (10 000 units, 1 250 clusters, 35 off the band, max_moves 1 500: no plan in
        # 30 s without the repair; with a together, an apart group and a fixed unit
        # the current grouping broke, none without placing them)
        from_current = True
        start = current_start(problem, data, k, clock=clock, max_work=work(
            min(REPAIR_SHARE * nominal, REPAIR_MAX_S), REPAIR_WORK_PER_S),
            codes=blocks)
        if start is not None:
            hint, labels, violation, direct = _medoids_of(problem, start), start, 0.0, True
    # one_region / one_function: the search keeps each cluster in its block, when the
    # start's clusters each lie in one (3 300 units, 550 clusters, one_region,
    # max_moves 1 500: 4 442.7 from the restricted model without this search)
    move_blocks = None
    if from_current and direct and (problem.rules.one_region or problem.rules.one_function):
        candidates = [blocks, rule_codes(problem, data)]
        move_blocks = next((c for c in candidates if c is not None and within_blocks(labels, c)),
                           None)
    if (from_current and direct and not interrupted and problem.rules.max_moves is not None
            and local_search_allowed(problem, data, with_move_budget=True, with_move_cost=True,
                                     within_blocks=move_blocks is not None)):
        # improve it, keeping at most max_moves units out of their current cluster
        # (10 000 units, 1 250 clusters, max_moves 1 500: the repaired current
        # grouping was the plan, 73 moves); the last phase, so it takes all the
        # nominal time left (10 000 units, 1 500 clusters, max_moves 3 000: half of
        # it went unspent)
        try:
            moved_labels, stats = improve(
                problem, data, k, labels, deadline=deadline, clock=clock,
                max_work=work(left(), LS_WORK_PER_S),
                home=home_clusters(labels, data),
                max_moved=problem.rules.max_moves - always_moved(labels, data),
                move_penalty=float(problem.rules.stability_weight), blocks=move_blocks)
        except KeyboardInterrupt as caught:  # the repaired current grouping (verified) stands,
            interrupted = True  # unless the search had already found a cheaper verified plan
            cut = (_cut_plan(problem, data, caught.labels, labels)
                   if isinstance(caught, PhaseInterrupted) else None)
            if cut is not None:
                hint, labels = _medoids_of(problem, cut), cut
        else:
            better = _medoids_of(problem, moved_labels)
            if partition_passes(problem, data, [better[i] for i in range(data.n)]):
                hint, labels, ls_stats = better, moved_labels, stats
        marks.append(("moves_search", time.monotonic(), clock.charged_s))
        # ``stop`` ends that search at its next step (Clock.halted): the plan in hand then
        # goes back interrupted, as after any phase, not as if the search had finished
        interrupted = interrupted or clock.halted()
    skip_model = direct and ls_stats is not None
    while True:
        if interrupted:
            # Ctrl-C: the plan in hand if it passes every rule, else none (solve()
            # then re-raises unless another cluster count has one)
            out = _outcome_from(problem, data, k, hint, started, progress) if direct \
                else _Outcome(n_clusters=k)
            out.interrupted = True
            break
        if skip_model:
            # the local search's plan passes every rule; the restricted model
            # would only spend time re-finding it (measured: it worsens dispersion)
            out = _outcome_from(problem, data, k, hint, started, progress)
            break
        if not direct and clock.expired(RESTRICTED_MIN_S + RESTRICTED_S_PER_PAIR * data.n * near):
            # the start phases used the wall time: the model's candidates and
            # build cannot be stopped and CP-SAT would get no time after them
            out = _Outcome(n_clusters=k)
            break
        cands = _restricted(problem, data, labels, hint, per, near)
        am = build_model(problem, k, cands, data=data)
        out = _search(problem, am, hint, deadline, started, progress, stop,
                      dtime=phase_share * left() * DTIME_PER_S, clock=clock)
        clock.charge(float(out.extra.get("dtime", 0.0)), DTIME_PER_S)
        if out.medoid_of is None and direct and not out.interrupted:
            # CP-SAT ran out of time before reading the hint: the repaired plan
            # passes every rule, so it is a verified plan to start from
            out.medoid_of = [hint[i] for i in range(data.n)]
            ids = np.arange(data.n)
            out.model_cost = int(
                pair_distances(problem.features, ids, np.asarray(out.medoid_of)).sum()
            )
            if progress is not None:
                from optimizer.search import ProgressEvent

                progress(ProgressEvent(time.monotonic() - started, out.model_cost / COST_SCALE, 0.0))
        if (out.medoid_of is not None or out.interrupted or clock.expired(0.5) or left() <= 0.5
                or widened >= MAX_WIDENINGS):
            break
        per, near, widened = per * 2, near * 2, widened + 1
        phase_share = 1.0
    extra: dict[str, object] = {
        "repair_violation": violation,
        "restricted_widened": widened,
        "restricted_pairs": out.n_pairs,
        "restricted_bound": out.bound / COST_SCALE,
        "restricted_bound_scope": "restricted model only (candidate pairs pruned around the seed)",
    }
    if problem.rules.contiguous and data.neighbors is not None:
        extra.update({"contig_flips": contig.flips, "contig_recoms": contig.recoms,
                      "contig_violation": contig.violation_after, "contig_work": contig.work})
    if trade is not None:
        extra.update({"stability_start": trade.start,
                      "stability_fresh_cost": trade.fresh_cost / COST_SCALE,
                      "stability_current_cost": (None if trade.current_cost is None
                                                 else trade.current_cost / COST_SCALE),
                      "stability_moved": trade.moved})
    if ls_stats is not None:
        extra.update({"ls_passes": ls_stats.passes, "ls_moves": ls_stats.moves,
                      "ls_swaps": ls_stats.swaps,
                      "ls_dispersion_gain": 1.0 - ls_stats.sse_after / max(ls_stats.sse_before, 1e-12)})
    if anneal_stats is not None:
        extra.update({"anneal_rounds": anneal_stats.rounds, "anneal_steps": anneal_stats.steps,
                      "anneal_gain": 1.0 - anneal_stats.sse_after
                      / max(anneal_stats.sse_before, 1e-12)})
    if region_stats is not None:
        extra.update({"region_tries": region_stats.tries, "region_kept": region_stats.kept,
                      "ls_final_moves": stats.moves + stats.swaps})
    if (out.medoid_of is not None and not out.interrupted and _lns_allowed(problem)
            and ls_stats is None):
        # after the local search the CP-SAT rounds found nothing (sizes only, 3 300
        # units: 0 of 10 rounds; with bands 0 gains at 700 / 3 300 / 10 000 / 50 000
        # units in 10 / 6 / 7 / 72 rounds): they run only where the search cannot
        lns_s = left()
        try:
            lns_started, lns_charged = time.monotonic(), clock.charged_s
            rounds, improved = lns_rounds(problem, data, k, out, deadline, started, progress, stop,
                                    dtime=lns_s * DTIME_PER_S, clock=clock)
            extra.update({"lns_rounds": rounds, "lns_improvements": improved,
                          "lns_dtime_wall": (round((clock.charged_s - lns_charged) * DTIME_PER_S, 3),
                                             round(time.monotonic() - lns_started, 3))})
        except KeyboardInterrupt:
            # Ctrl-C in the Python part of LNS: keep the plan in hand (``out`` only
            # ever holds a complete plan; _finish re-verifies it) instead of losing it
            out.interrupted = True
    # after Ctrl-C the planner asked for the plan now: the bound gets no top-up
    # and at most INTERRUPTED_BOUND_S (it ran the whole share before: 600 units,
    # 300 s limit, the plan came 9 s after the signal); a second Ctrl-C while
    # bounding keeps the plan with whatever bound is in hand
    share_s = BOUND_SHARE * bound_nominal
    if out.interrupted:
        share_s = min(share_s, INTERRUPTED_BOUND_S)
    if not with_bound:
        out.bound = 0
    elif out.medoid_of is not None or not out.interrupted:
        try:
            _lower_bound(problem, data, k, out, extra, share_s=share_s,
                         spare_s=0.0 if out.interrupted else left(), bound_end=bound_end)
        except KeyboardInterrupt:
            out.interrupted = True
            extra["bound_interrupted"] = True
    else:
        out.bound = 0  # no plan to report; the restricted model's bound is not the scenario's
    out.bound_scope = "full"
    out.infeasible = False  # a pruned model's infeasibility proves nothing about the scenario
    extra["clock_stopped"] = clock.stopped
    extra["nominal_s"] = nominal
    extra["nominal_charged_s"] = round(clock.charged_s, 3)
    extra["phases_wall_s"] = round(time.monotonic() - now, 3)
    # wall seconds per phase (machine-dependent, for diagnosis only) and the nominal
    # seconds each was charged: a phase whose wall time runs well past its charge has
    # a work rate too optimistic for the table's shape, and will meet the clock
    pairs = list(itertools.pairwise(marks))
    extra["phase_wall_s"] = " ".join(f"{name}={end - begin:.2f}" for (_, begin, _), (name, end, _)
                                     in pairs)
    extra["phase_charged_s"] = " ".join(f"{name}={after - before:.2f}"
                                        for (_, _, before), (name, _, after) in pairs)
    out.extra = extra
    out.proven = False
    return out


def _cut_plan(problem: Problem, data: ModelData, cut: np.ndarray,
              kept: list[int] | None) -> list[int] | None:
    """The labels a phase held when Ctrl-C cut it, if they pass every rule and cost less
    than ``kept`` (the last phase's verified plan, or None); else None.

    The cost compared is the plan's own objective (each unit's distance to its
    cluster's medoid). Not with a stability weight: the objective then also
    prices each unit moved, and a phase's plan cut in the middle was never
    priced that way.
    """
    from optimizer.search import _medoids_of

    if problem.rules.stability_weight or len(cut) != data.n:
        return None
    labels = np.asarray(cut, dtype=np.int64).tolist()

    def medoid_of(plan: list[int]) -> np.ndarray:
        medoids = _medoids_of(problem, plan)
        return np.asarray([medoids[i] for i in range(data.n)])

    ids = np.arange(data.n)
    ours = medoid_of(labels)
    if not partition_passes(problem, data, ours.tolist()):
        return None
    if kept is None:
        return labels
    cost = pair_distances(problem.features, ids, ours).sum()
    return labels if cost < pair_distances(problem.features, ids, medoid_of(kept)).sum() else None


class _StopRequested(Exception):
    """``stop`` was found set after a phase: end the phases with the plan in hand."""


def _lower_bound(problem: Problem, data: ModelData, k: int, out, extra: dict[str, object], *,
                 share_s: float, spare_s: float, bound_end: float) -> None:
    """Set ``out.bound`` (valid for every plan of the scenario) for the plan in ``out``.

    ``share_s`` nominal seconds, topped up by ``spare_s`` (the phases' unspent
    nominal seconds); details go to ``extra``. ``out.bound``
    always holds a valid bound (0 first), so a Ctrl-C inside leaves one in hand: the
    best value the cut bound had proven (BoundInterrupted), else the last one finished.
    """
    out.bound = 0
    # the bound reported is valid for every plan of the scenario (optimizer/bound.py);
    # with bands on a similarity column that column gets its own, far stronger bound
    # (optimizer/column_bound.py, three quarters of the bound's time) and the Lagrangian
    # bounds the other columns' part
    columns = balanced_feature_columns(problem, data) if out.medoid_of is not None else []
    share = REST_SHARE if columns else 1.0
    # that bound is far from converged in its share at 3 300+ units, while the
    # search often ends before its nominal time: it also takes the nominal time
    # the phases left unspent (a count of work, so still deterministic); the
    # Lagrangian alone takes of it what it needs for a useful number of steps.
    # Not after Ctrl-C: the planner asked for the plan now.
    window = size_window(data.n, k, problem.rules.min_size, problem.rules.max_size)
    bound_s = bound_seconds(
        share_s, spare_s,
        None if columns else useful_work(data.n, window[1]) / BOUND_WORK_PER_S)
    x = features_in_unit_order(problem) if columns else None
    values = other_columns(x, columns) if columns else problem.features
    balance = [] if columns else [(b.values, *b.band(k)) for b in data.balance]
    allowance = work(share * bound_s, BOUND_WORK_PER_S)
    cost = out.model_cost or 0
    with _bound_in_hand(out):
        lagrangian = _lagrangian(problem, values, k, out, extra, allowance=allowance,
                                 balance=balance, bound_end=bound_end, cost=cost)
    # valid alone (with a column bound it bounds the other columns' part, and the
    # column's part is ≥ 0)
    out.bound = max(lagrangian.bound, 0)
    extra["bound_iterations"] = lagrangian.iterations
    extra["bound_groups"] = lagrangian.groups
    extra["bound_converged"] = lagrangian.converged
    # the linear column bound and the nearest-neighbour bound cannot stop inside their
    # first step: each is skipped when that step would end well past the bound's end
    # (50 000 units, 7 000 clusters: the column bound's one step took 2 s and the
    # nearest-neighbour search 3.7 s past it, the plan came 2 s after a 60-s limit); the
    # plan keeps whatever bound is in hand. The pattern bound (small clusters) stops
    # between rounds and always runs: it was skipped with the other one whenever less
    # than ~2.5 s was left at 50 000 units, where its first 8–12 rounds (~1 s) already
    # bound 108–530 (916 after 22).
    lagrangian_part = lagrangian.bound
    skip_columns = joint_stopped = False
    if columns:
        column_step_s = COLUMN_STEP_S_PER_UNIT * data.n
        with _bound_in_hand(out):
            decomposed, details = decomposed_bound(
                x, k, *window, out.medoid_of, columns, lagrangian.bound,
                max_work=work((1 - share) * bound_s, COLUMN_BOUND_WORK_PER_S),
                deadline=max(bound_end, time.monotonic() + 0.1),
                linear_may_start=lambda: _fits(column_step_s, bound_end))
        extra.update(details)
        skip_columns = bool(details.get("column_bound_skipped"))
        # the other columns' part alone is valid too: a pair's rounded cost is at least
        # its rounded cost on them (rounding is monotone), with no allowance for adding
        # two roundings — the better of the two when a column added nothing
        lagrangian_part = max(decomposed, lagrangian.bound)
        out.bound = max(lagrangian_part, 0)  # in hand should Ctrl-C land in the next one
        if (not out.interrupted and cost - lagrangian_part >= TOPUP_GAP * cost > 0
                and details["column_bound"] <= JOINT_COLUMN_SHARE * _columns_part(
                    x, columns, out.medoid_of)
                and _fits(NEAREST_BOUND_S_PER_UNIT * data.n, bound_end)):
            joint_s = bound_seconds(share_s, spare_s,
                                    useful_work(data.n, window[1]) / BOUND_WORK_PER_S)
            # one run with the work a top-up would add (the top-up restarts from scratch;
            # 3 300 units, ±300 %: 167–245 over four runs that way, 248 in one run)
            with _bound_in_hand(out):
                joint = _lagrangian(problem, problem.features, k, out, extra, topup=False,
                                    allowance=(1 + TOPUP_FACTOR) * work(joint_s, BOUND_WORK_PER_S),
                                    balance=[(b.values, *b.band(k)) for b in data.balance],
                                    bound_end=bound_end, cost=cost)
            extra["bound_all_columns"] = joint.bound / COST_SCALE
            joint_stopped = joint.clock_stopped
            if joint.bound > lagrangian_part:
                lagrangian_part = joint.bound
                lagrangian = joint
    # the nearest-neighbour bound is cheap on small tables (0.1 s at 1 000 units) and
    # kept as the fallback there, late or not; at 50 000 units it takes ~4 s
    skip_nearest = not _fits(NEAREST_BOUND_S_PER_UNIT * data.n, bound_end)
    if skip_nearest:
        extra["nearest_bound_skipped"] = True
    # a Lagrangian value may be negative (its multipliers' start); every cost is ≥ 0
    out.bound = max(lagrangian_part, 0) if skip_nearest else max(
        full_lower_bound(problem.features, k), lagrangian_part)
    if problem.rules.stability_weight and _current_known(data):
        # every plan moves at least the units the counts force (3 300 units, 412 current
        # clusters, 550 asked: 690), each at its price; the dispersion bound ignores moves
        forced = forced_moves(data, k, problem.rules.min_size, problem.rules.max_size)
        out.bound += move_cost(problem.rules.stability_weight) * forced
        extra["bound_forced_moves"] = forced
    if lagrangian.clock_stopped or joint_stopped or skip_columns or skip_nearest:
        # the plan is unaffected; only the bound may differ on a rerun
        extra["bound_clock_stopped"] = True


@contextmanager
def _bound_in_hand(out) -> Iterator[None]:
    """Ctrl-C inside: ``out.bound`` takes the best value the cut bound had proven (each
    bound run alone is valid for the whole objective), then the Ctrl-C goes on."""
    try:
        yield
    except BoundInterrupted as cut:
        out.bound = max(out.bound, int(cut.bound), 0)
        raise


def _lagrangian(problem: Problem, values, k: int, out, extra: dict[str, object], *,
                allowance: int, balance: list, bound_end: float, cost: int,
                topup: bool = True) -> BoundResult:
    """The Lagrangian bound on ``values`` (the band priced when ``balance`` is given), with
    ``topup`` run once more with :data:`TOPUP_FACTOR` times its work when it ends loose and
    still rising."""
    bound_started = time.monotonic()
    if bound_started >= bound_end:
        # the phases took the wall time meant for the bound (their work rates can
        # be optimistic, e.g. two clusters of 10 000 units): the time limit wins,
        # and the plan keeps the nearest-neighbour bound
        return BoundResult(0, 0, 0, 0, clock_stopped=True)
    lagrangian = lagrangian_bound(
        values, k, problem.rules.min_size, problem.rules.max_size, out.medoid_of,
        max_work=allowance, deadline=bound_end, balance=balance)
    # the top-up's steps stop at the deadline but its neighbour search cannot: it
    # starts only when TOPUP_WALL_FACTOR times the first run's wall time is left
    # (its neighbours at most double; 20 000 units in 2 clusters, 30 s: it began
    # past the limit and the plan came 14 s late)
    now = time.monotonic()
    topup_fits = now + TOPUP_WALL_FACTOR * (now - bound_started) <= bound_end
    # (sizes only: when medoid groups price the far units — small clusters — the bound
    # keeps rising with work: 3 300 units in clusters of 5–7, 47.2 → 68.2 against a plan of
    # 123.1, before that plan was annealed)
    wanted = (topup and (balance or lagrangian.groups) and not lagrangian.converged
              and not lagrangian.clock_stopped
              and not out.interrupted and cost - lagrangian.bound >= TOPUP_GAP * cost > 0)
    if wanted and not topup_fits:
        extra["bound_topup_skipped"] = True
    elif wanted:
        # a loose bound still rising is the whole proof here: a planner reads a
        # gap of one half as "twice too costly", so it gets a fixed extra allowance
        try:
            again = lagrangian_bound(
                values, k, problem.rules.min_size, problem.rules.max_size, out.medoid_of,
                max_work=TOPUP_FACTOR * allowance, deadline=bound_end, balance=balance)
        except BoundInterrupted as cut:  # the first run's bound may be the better one
            raise BoundInterrupted(max(cut.bound, lagrangian.bound)) from None
        extra["bound_topup"] = again.bound > lagrangian.bound
        extra["bound_before_topup"] = lagrangian.bound / COST_SCALE
        if again.bound > lagrangian.bound:
            lagrangian = again
    return lagrangian


def _columns_part(x: np.ndarray, columns, medoid_of) -> float:
    """The plan's own within-cluster sum of squares on the balanced columns (their units)."""
    _, lab = np.unique(np.asarray(medoid_of), return_inverse=True)
    return sum(incumbent_value(x[:, index], lab)[0] for index, _ in columns)


def _fits(cost_s: float, end: float) -> bool:
    """Whether an unstoppable step of ``cost_s`` wall seconds may start: it is cheap
    (≤ BOUND_STEP_LATE_S) or ends by ``end`` plus that much."""
    return cost_s <= BOUND_STEP_LATE_S or time.monotonic() + cost_s <= end + BOUND_STEP_LATE_S


def _outcome_from(problem, data, k, hint, started, progress):
    """An outcome holding the verified plan ``hint`` (unit -> medoid) as it is."""
    from optimizer.search import ProgressEvent, _Outcome

    out = _Outcome(n_clusters=k)
    out.bound_scope = "full"
    out.medoid_of = [hint[i] for i in range(data.n)]
    ids = np.arange(data.n)
    out.model_cost = int(pair_distances(problem.features, ids, np.asarray(out.medoid_of)).sum())
    out.rules = sorted(_active(problem))
    if progress is not None:
        progress(ProgressEvent(time.monotonic() - started, out.model_cost / COST_SCALE, 0.0))
    return out


def _active(problem: Problem) -> list[str]:
    from optimizer.check import active_rules

    return active_rules(problem)


def _current_known(data: ModelData) -> bool:
    """Some unit has a current group (the current grouping can start a plan)."""
    return any(g >= 0 for g in data.current)


def _lns_allowed(problem: Problem) -> bool:
    rules = problem.rules
    return rules.max_moves is None and not rules.stability_weight

