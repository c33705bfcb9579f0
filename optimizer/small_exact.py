"""The exact (small-table) search: heuristic incumbent, reduced-cost fixing, proof.

Why: issue 7 asks for proven optima at ≤ 100 units in seconds. CP-SAT alone
spends seconds finding a good plan (100 units S: none in 2 s) and then
branches on all n² pairs. The large path's construct + local search gives a
near-optimal plan in well under a second; with it as upper bound,
:mod:`optimizer.pair_fixing` fixes to 0 every pair that cannot beat it, and
CP-SAT, hinted with that plan, only has to prove (or improve) it.

Validity: the incumbent passes :func:`optimizer.check.check_plan` and every
pair it uses exists in the model, so it is a plan of the model; dropped pairs
only remove plans costing at least as much as it, hence the model optimum
and every bound CP-SAT proves stay those of the full model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from optimizer.budget import LS_WORK_PER_S, work
from optimizer.model import AssignmentModel
from optimizer.problem import Problem

#: Nominal seconds for the heuristic incumbent (balanced start + local search).
#: 100 units K = 8: both finish far below their allowance (~0.1–0.3 s loaded).
INCUMBENT_S = 1.0


def dense_cost(am: AssignmentModel) -> np.ndarray:
    """``cost[i, m]`` of every model pair; ``inf`` where the model has no variable."""
    n = am.data.n
    cost = np.full((n, n), np.inf)
    for (i, m), c in am.cost.items():
        cost[i, m] = c
    return cost


def heuristic_incumbent(
    problem: Problem, am: AssignmentModel, seed_labels: list[int], deadline: float
) -> dict[int, int] | None:
    """A plan (unit → medoid) of the model from construct + local search, or None.

    Only when the local search keeps every active rule by construction and
    no move cost enters the objective (the fixing bound ignores moves, and a
    plan under stability rules is the solver's business).
    """
    from optimizer.construct import balanced_start
    from optimizer.lns import _passes_check
    from optimizer.local_search import improve, local_search_allowed, locked_units
    from optimizer.medoid_descent import medoid_descent
    from optimizer.solve import _medoids_of

    data, rules = am.data, problem.rules
    if am.move_cost or not local_search_allowed(problem, data) or rules.contiguous:
        return None
    stop_at = min(deadline, time.monotonic() + 2 * INCUMBENT_S)
    labels, violation = balanced_start(problem, data, am.n_clusters, seed_labels, stop_at,
                                       seconds=INCUMBENT_S)
    if violation != 0.0:
        return None
    labels, _ = improve(problem, data, am.n_clusters, labels, deadline=stop_at,
                        max_work=work(INCUMBENT_S, LS_WORK_PER_S))
    k, n = am.n_clusters, data.n
    _, labels = np.unique(np.asarray(labels), return_inverse=True)
    bands = [(b.ceil_scaled, b.floor_scaled, *b.band_scaled(k)) for b in data.balance]
    labels = medoid_descent(dense_cost(am), labels.tolist(), k, rules.min_size or 1,
                            rules.max_size or n, bands, locked_units(data))
    medoid_of = _medoids_of(problem, labels)
    plan = [medoid_of[i] for i in range(data.n)]
    if any((i, m) not in am.x for i, m in enumerate(plan)) or len(set(plan)) != am.n_clusters:
        return None
    return medoid_of if _passes_check(problem, data, plan) else None


def search_with_fixing(
    problem: Problem,
    am: AssignmentModel,
    seed_labels: list[int],
    hint: dict[int, int] | None,
    deadline: float,
    started: float,
    progress: Callable | None,
    stop: threading.Event | None,
):
    """Incumbent, then fixing, then CP-SAT hinted with it; a solve ``_Outcome``.

    Without a heuristic incumbent this is the plain search. ``details`` get
    ``fixed_pairs`` (pair variables fixed to 0 for *this* incumbent's proof)
    and ``fixing_bound`` (the Lagrangian bound, objective units).
    """
    from optimizer.objective import COST_SCALE
    from optimizer.pair_fixing import lagrangian_fixing
    from optimizer.solve import ProgressEvent, _search

    stopped = stop is not None and stop.is_set()
    incumbent = None if stopped else heuristic_incumbent(problem, am, seed_labels, deadline)
    if incumbent is None:
        return _search(problem, am, hint, deadline, started, progress, stop)
    n = am.data.n
    upper = sum(am.cost[i, incumbent[i]] for i in range(n))
    if progress is not None:
        progress(ProgressEvent(time.monotonic() - started, upper / COST_SCALE, 0.0))
    rules = problem.rules
    fixing = lagrangian_fixing(dense_cost(am), am.n_clusters, rules.min_size or 1, rules.max_size or n,
                               upper, incumbent)
    dropped, pairs = set(fixing.drop_medoids), fixing.drop_pairs_set
    n_fixed = 0
    for (i, m), var in am.x.items():
        if m in dropped or (i, m) in pairs:
            am.model.add(var == 0)
            n_fixed += 1
    out = _search(problem, am, incumbent, deadline, started, progress, stop)
    if out.model_cost is None or out.model_cost > upper:
        # CP-SAT stopped before reading the hint: the incumbent passes every rule
        out.model_cost, out.medoid_of = upper, [incumbent[i] for i in range(n)]
    out.infeasible = False  # the incumbent is a plan of the model
    out.bound = max(out.bound, min(fixing.bound, upper))
    out.proven = am.candidates.exact and out.model_cost <= out.bound
    out.extra["fixed_pairs"] = n_fixed
    out.extra["fixing_bound"] = fixing.bound / COST_SCALE
    return out
