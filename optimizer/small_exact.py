"""The exact (small-table) search: heuristic incumbent, reduced-cost fixing, proof.

Why: issue 7 asks for proven optima at ≤ 100 units in seconds. CP-SAT alone
spends seconds finding a good plan (100 units S: none in 2 s) and then
branches on all n² pairs. The large path's construct + local search gives a
near-optimal plan in well under a second; with it as upper bound,
:mod:`optimizer.pair_fixing` fixes to 0 every pair that cannot beat it, and
the proof (or a better plan) comes from HiGHS on the reduced model started
from that plan (:mod:`optimizer.mip_exact`) when its rules are sizes, count
and bands, else from CP-SAT hinted with it. Measured (60 s limit, K = 8,
seeds 0–2, benchmark at 711e1fa): S at 63 / 100 units proven in 0.5–4.2 s
(CP-SAT: 0.6–24 s); F 63 units seed 0 proven in 41 s and gaps 0.016–0.073
elsewhere (CP-SAT: none proven, gaps 0.04–0.12), with better plans (63 F
seed 1: 84.66 against CP-SAT's 89.20).

Validity: the incumbent passes :func:`optimizer.check.check_plan` and every
pair it uses exists in the model, so it is a plan of the model; dropped pairs
only remove plans costing at least as much as it, hence the model optimum
and every bound CP-SAT or HiGHS proves stay those of the full model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

from optimizer.budget import LS_WORK_PER_S, work
from optimizer.check import partition_passes
from optimizer.mip_exact import mip_applies, solve_mip
from optimizer.model import AssignmentModel
from optimizer.problem import Problem

#: Nominal seconds for the heuristic incumbent (balanced start + local search).
#: 100 units K = 8: both finish far below their allowance (~0.1–0.3 s loaded).
INCUMBENT_S = 1.0
#: Seconds of the first cutoff slice (see the loop for what follows it).
FIRST_SLICE_S = 1.0
#: Share of the time for the first, hinted search (no cutoff). Measured, 20 s,
#: 63 units F: hinted 77.6 / 89.1 / 79.3 (seeds 0–2), cutoff only 78.3 / 95.8
#: / 81.9; 100 units S seed 0: hinted 70.93 (gap 0.011), cutoff only OPTIMAL
#: 70.25 in 10 s. Both have their turn.
HINTED_SHARE = 0.3
#: ... at most this long (a 60 s limit would otherwise delay the proof rounds
#: by 18 s; the 20 s measurements above gave the hinted search 6 s).
HINTED_MAX_S = 6.0
#: Rounds of the Lagrangian heuristic (each: fix, plans from its medoid sets).
LAGRANGIAN_ROUNDS = 3
#: The band bound (optimizer.band_bound: 150 iterations ~2 s at 63 units,
#: ~6 s at 100, load ~2.5) runs when at least BAND_MIN_S are left, with all
#: its iterations from BAND_FULL_S left on and proportionally fewer below
#: (63 units F seed 0: 50 iterations reach 73.3, 150 reach 74.3).
BAND_MIN_S = 3.0
BAND_FULL_S = 15.0
BAND_ITERATIONS = 150


def dense_cost(am: AssignmentModel) -> np.ndarray:
    """``cost[i, m]`` of every model pair; ``inf`` where the model has no variable."""
    n = am.data.n
    cost = np.full((n, n), np.inf)
    for (i, m), c in am.cost.items():
        cost[i, m] = c
    return cost


def heuristic_incumbent(
    problem: Problem, am: AssignmentModel, seed_labels: list[int], deadline: float,
    offered: list[int] | None = None,
) -> dict[int, int] | None:
    """A plan (unit → medoid) of the model from construct + local search, or None.

    Only when the local search keeps every active rule by construction and
    no move cost enters the objective (the fixing bound ignores moves, and a
    plan under stability rules is the solver's business). ``offered`` (a plan
    from elsewhere, cluster per unit in any numbering) is polished too and
    kept when it is cheaper.
    """
    from optimizer.construct import balanced_start
    from optimizer.local_search import improve, local_search_allowed

    data, rules = am.data, problem.rules
    if am.move_cost or not local_search_allowed(problem, data) or rules.contiguous:
        return None
    stop_at = min(deadline, time.monotonic() + 2 * INCUMBENT_S)
    labels, violation = balanced_start(problem, data, am.n_clusters, seed_labels, stop_at,
                                       seconds=INCUMBENT_S)
    own = None
    if violation == 0.0:
        labels, _ = improve(problem, data, am.n_clusters, labels, deadline=stop_at,
                            max_work=work(INCUMBENT_S, LS_WORK_PER_S))
        own = polished_plan(problem, am, labels)
    other = polished_plan(problem, am, offered) if offered is not None else None
    if other is not None and (own is None or _plan_cost(am, other) < _plan_cost(am, own)):
        return other
    return own


def _plan_cost(am: AssignmentModel, medoid_of: dict[int, int]) -> int:
    return sum(am.cost[i, medoid_of[i]] for i in range(am.data.n))


def polished_plan(problem: Problem, am: AssignmentModel, labels) -> dict[int, int] | None:
    """``labels`` after :func:`medoid_descent`, as unit → medoid, if it is a plan of the model."""
    from optimizer.local_search import locked_units
    from optimizer.medoid_descent import medoid_descent
    from optimizer.search import _medoids_of

    data, rules = am.data, problem.rules
    k, n = am.n_clusters, data.n
    _, labels = np.unique(np.asarray(labels), return_inverse=True)
    if labels.max() + 1 != k:
        return None
    bands = [(b.ceil_scaled, b.floor_scaled, *b.band_scaled(k)) for b in data.balance]
    labels = medoid_descent(dense_cost(am), labels.tolist(), k, rules.min_size or 1,
                            rules.max_size or n, bands, locked_units(data))
    medoid_of = _medoids_of(problem, labels)
    plan = [medoid_of[i] for i in range(n)]
    if any((i, m) not in am.x for i, m in enumerate(plan)) or len(set(plan)) != k:
        return None
    return medoid_of if partition_passes(problem, data, plan) else None


def lagrangian_plans(
    problem: Problem, am: AssignmentModel, cost: np.ndarray, medoid_sets, upper: int,
    incumbent: dict[int, int],
) -> tuple[int, dict[int, int], int]:
    """The best of ``incumbent`` and plans around the Lagrangian's medoid sets; (cost, plan, tried).

    Each set's units go to its medoids by the cheapest size-feasible
    assignment, then medoid descent polishes them (the textbook Lagrangian
    heuristic for p-median; bands are only checked, not sought).
    """
    from optimizer.medoid_descent import assign_to_medoids

    rules, n = problem.rules, am.data.n
    tried = 0
    for medoids in medoid_sets:
        labels = assign_to_medoids(cost, medoids, rules.min_size or 1, rules.max_size or n)
        if labels is None:
            continue
        tried += 1
        plan = polished_plan(problem, am, labels)
        if plan is None:
            continue
        value = _plan_cost(am, plan)
        if value < upper:
            upper, incumbent = value, plan
    return upper, incumbent, tried


def search_with_fixing(
    problem: Problem,
    am: AssignmentModel,
    seed_labels: list[int],
    hint: dict[int, int] | None,
    deadline: float,
    started: float,
    progress: Callable | None,
    stop: threading.Event | None,
    nominal_s: float | None = None,
    offered: list[int] | None = None,
):
    """Incumbent, fixing, then HiGHS (sizes, count, bands) or rounds of CP-SAT.

    With only the MIP's rules (:func:`optimizer.mip_exact.mip_applies`) one
    HiGHS run from the incumbent, on the pairs the fixing kept, takes all the
    time left (it stops on ``stop`` or Ctrl-C). Otherwise each round fixes the pairs that cannot beat the incumbent and asks CP-SAT
    for a plan below its cost (``objective <= upper − 1``): INFEASIBLE proves
    the incumbent optimal; a better plan becomes the incumbent and the next
    round fixes against it. Without a heuristic incumbent this is the plain
    search. ``details`` get ``fixed_pairs`` (pair variables fixed to 0 for
    the proof of the final incumbent), ``fixing_bound`` (the Lagrangian
    bound, objective units), ``fixing_rounds``, ``incumbent_s`` and
    ``fixing_s`` (wall seconds), and with HiGHS ``mip_s``, ``mip_status`` and ``mip_nodes``.
    ``offered`` is a plan to take as the incumbent if it is cheaper (:func:`heuristic_incumbent`).
    """
    from optimizer.band_bound import band_lagrangian_bound
    from optimizer.bound import size_window
    from optimizer.objective import COST_SCALE
    from optimizer.pair_fixing import lagrangian_fixing
    from optimizer.search import ProgressEvent, _Outcome, _search

    begun = time.monotonic()
    stopped = stop is not None and stop.is_set()
    incumbent = None if stopped else heuristic_incumbent(
        problem, am, seed_labels, deadline, offered)
    if incumbent is None:
        return _search(problem, am, hint, deadline, started, progress, stop)
    n = am.data.n
    upper = _plan_cost(am, incumbent)
    if progress is not None:
        progress(ProgressEvent(time.monotonic() - started, upper / COST_SCALE, 0.0))
    rules, cost = problem.rules, dense_cost(am)
    fixed: set[tuple[int, int]] = set()
    out = _Outcome(n_clusters=am.n_clusters, n_pairs=len(am.x), rules=list(am.rules_used),
                   bound_scope="full" if am.candidates.exact else "restricted")
    best_bound, fix_bound, rounds, heuristic_rounds = 0, 0, 0, 0
    slice_s = FIRST_SLICE_S
    timings = {"incumbent_s": round(time.monotonic() - begun, 3), "fixing_s": 0.0,
               "lagrangian_plans": 0, "lagrangian_gain": 0.0}
    # Ctrl-C in the numpy parts below (the fixing, the Lagrangian plans, the band
    # bound: ~1-10 s at 100 units) lost the incumbent before (100 units F, 30 s:
    # interrupted at 0.3-6 s, no plan); the incumbent is always a whole plan
    try:
        while True:
            # fix against the current incumbent (pairs fixed earlier stay fixed: each
            # round's incumbent is no worse, so they still cannot beat it)
            t0 = time.monotonic()
            fixing = lagrangian_fixing(cost, am.n_clusters, rules.min_size or 1,
                                       rules.max_size or n, upper, incumbent)
            timings["fixing_s"] += round(time.monotonic() - t0, 3)
            fix_bound = max(fix_bound, min(fixing.bound, upper))
            if rounds == 0 and heuristic_rounds < LAGRANGIAN_ROUNDS:
                heuristic_rounds += 1
                better, incumbent, tried = lagrangian_plans(problem, am, cost, fixing.medoid_sets,
                                                            upper, incumbent)
                timings["lagrangian_plans"] += tried
                if better < upper:
                    timings["lagrangian_gain"] += (upper - better) / COST_SCALE
                    upper = better
                    continue  # fix again, against the better plan
            dropped, pairs = set(fixing.drop_medoids), fixing.drop_pairs_set
            for key, var in am.x.items():
                if key not in fixed and (key[1] in dropped or key in pairs):
                    am.model.add(var == 0)
                    fixed.add(key)
            # the band bound's iterations follow the nominal time (a rerun does the
            # same); the clock only skips it when the limit is already spent
            left = (problem.settings.time_limit_s if nominal_s is None else nominal_s) - INCUMBENT_S
            if (rounds == 0 and len(am.data.balance) == 1 and left >= BAND_MIN_S
                    and deadline - time.monotonic() >= BAND_MIN_S / 2):
                t0 = time.monotonic()
                col = am.data.balance[0]
                its = min(BAND_ITERATIONS, max(int(BAND_ITERATIONS * left / BAND_FULL_S), 10))
                band = band_lagrangian_bound(cost, am.n_clusters, *size_window(
                    n, am.n_clusters, rules.min_size, rules.max_size), col.ceil_scaled,
                    col.floor_scaled, *col.band_scaled(am.n_clusters), upper, iterations=its)
                timings["band_bound"] = band.bound / COST_SCALE
                timings["band_s"] = round(time.monotonic() - t0, 3)
                fix_bound = max(fix_bound, min(band.bound, upper))
                shut = set(band.closed) - set(incumbent.values())
                timings["band_closed_medoids"] = len(shut)
                for key, var in am.x.items():
                    if key[1] in shut and key not in fixed:
                        am.model.add(var == 0)
                        fixed.add(key)
            rounds += 1
            if upper <= fix_bound:  # the Lagrangian bound alone proves the incumbent
                best_bound = upper
                break
            if mip_applies(am):
                upper, incumbent, best_bound, interrupted = _mip_proof(
                    am, rules, upper, incumbent, fixed, max(best_bound, fix_bound), deadline,
                    started, progress, stop, timings, problem.settings.seed)
                out.interrupted = interrupted
                break
            end = min(deadline, time.monotonic() + slice_s)
            if rounds == 1:
                # improve first: CP-SAT's neighbourhood search works from the hinted plan
                share = min(HINTED_SHARE * (deadline - time.monotonic()), HINTED_MAX_S)
                end = min(deadline, time.monotonic() + share)
                out = _search(problem, am, incumbent, end, started, progress, stop)
            else:
                # then only strictly better plans: INFEASIBLE proves the incumbent optimal
                am.model.add(am.objective <= upper - 1)
                am.model.clear_hints()
                out = _search(problem, am, None, end, started, progress, stop)
            if out.infeasible:
                best_bound = upper  # no plan of the model beats the incumbent
                break
            best_bound = max(best_bound, min(out.bound, upper), fix_bound)
            improved = out.model_cost is not None and out.model_cost < upper
            if improved:
                assert out.medoid_of is not None and out.model_cost is not None
                upper, incumbent = out.model_cost, dict(enumerate(out.medoid_of))
            if out.interrupted or upper <= best_bound or time.monotonic() >= deadline - 0.05:
                break
            if rounds > 1:
                # a slice that found a better plan doubles (re-fixing against it);
                # one that did not gives the proof all that is left (restarts lose
                # CP-SAT's progress: 100 units S seed 1, 20 s: 83.71 with doubling
                # only, 80.585 with one long slice)
                slice_s = slice_s * 2 if improved else math.inf
    except KeyboardInterrupt:
        out.interrupted = True
        best_bound = max(best_bound, fix_bound)  # both valid; fix_bound may be newer
    out.model_cost, out.medoid_of = upper, [incumbent[i] for i in range(n)]
    out.infeasible = False  # the incumbent is a plan of the model
    out.bound = min(best_bound, upper)
    out.proven = am.candidates.exact and upper <= out.bound
    out.extra.update(timings)
    out.extra["fixed_pairs"] = len(fixed)
    out.extra["fixing_bound"] = fix_bound / COST_SCALE
    out.extra["fixing_rounds"] = rounds
    return out


def _mip_proof(am, rules, upper, incumbent, fixed, bound, deadline, started, progress, stop,
               timings, seed) -> tuple[int, dict[int, int], int, bool]:
    """HiGHS on the fixed model from the incumbent; ``(upper, incumbent, bound, interrupted)``.

    ``fixed`` pairs cannot beat the incumbent, so they stay out of the MIP.
    """
    from optimizer.objective import COST_SCALE
    from optimizer.search import ProgressEvent

    res = solve_mip(am, [incumbent[i] for i in range(am.data.n)], min_size=rules.min_size,
                    max_size=rules.max_size, dropped=fixed,
                    time_limit=deadline - time.monotonic(), seed=seed, stop=stop)
    timings["mip_s"] = round(res.seconds, 3)
    timings["mip_status"] = res.status
    timings["mip_nodes"] = res.nodes
    if res.medoid_of is not None and res.cost is not None and res.cost < upper:
        upper, incumbent = res.cost, dict(enumerate(res.medoid_of))
        if progress is not None:
            progress(ProgressEvent(time.monotonic() - started, upper / COST_SCALE,
                                   res.bound / COST_SCALE))
    return upper, incumbent, max(bound, min(res.bound, upper)), res.interrupted
