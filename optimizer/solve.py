"""``solve(problem)``: the best verified plan under every rule, with an honest bound.

Flow per allowed cluster count: a seed plan (scikit-learn) → candidate pairs
(every pair the rules allow for small tables; pruned around the seed for
large ones, widened when the pruned model has no plan) → the CP-SAT p-median
model (:mod:`optimizer.model`) → one CP-SAT search (:mod:`optimizer.search`:
a worker thread while this thread waits in short joins, so Ctrl-C and the
``stop`` event interrupt cleanly; contiguity separator cuts added lazily and
the model re-solved with the best plan as hint) → labels (:mod:`optimizer.labels`) → :func:`check_plan`. A plan
that fails the check is a bug and is never returned.

Status mapping: OPTIMAL / FEASIBLE give a :class:`Plan`; INFEASIBLE of an
exact model raises :class:`InfeasibleError` naming the active rules (a pruned
model's infeasibility proves nothing and only widens the candidates);
UNKNOWN raises :class:`NoSolutionError`; MODEL_INVALID raises RuntimeError.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from features.i18n import register, tr
from optimizer.bound import TOPUP_GAP
from optimizer.budget import suggested_time_limit
from optimizer.candidates import full_candidates
from optimizer.check import check_plan
from optimizer.data import ModelData, prepare
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.labels import count_moved, label_partition
from optimizer.model import AssignmentModel, build_model
from optimizer.objective import (
    COST_SCALE,
    OBJECTIVE_DEFINITION,
    calinski_harabasz,
    medoid_dispersion,
    move_cost,
)
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.precheck import feasible_counts
from optimizer.problem import Problem
from optimizer.search import (  # re-exported: callers import ProgressEvent from here
    ProgressEvent,
    _medoids_of,
    _Outcome,
    _seed_labels,
)
from optimizer.seed import KMEANS_PAIRS_PER_S

register(
    {
        "solve.infeasible": {
            "vi": "Không có phương án nào thỏa mãn đồng thời các quy tắc: {rules} (đã chứng minh bằng bộ giải với {k} cụm). Hãy nới lỏng một quy tắc.",
            "en": "No plan satisfies all of these rules together: {rules} (proven by the solver for {k} clusters). Relax one of them.",
        },
        "solve.clock_stopped": {
            "vi": "Đồng hồ đã dừng một bước tìm kiếm trước khi xong phần việc định sẵn (máy bận hoặc giới hạn thời gian ngắn); chạy lại với cùng dữ liệu và hạt giống có thể cho phương án khác. Hãy tăng --time-limit để kết quả lặp lại được.",
            "en": "The clock stopped a search step before its planned work was done (busy machine or short time limit); a rerun with the same data and seed may give a different plan. Raise --time-limit for a repeatable result.",
        },
        "solve.exact_clock_stopped": {
            "vi": "Chưa chứng minh được phương án là tối ưu trong giới hạn thời gian; phương án đã được kiểm tra đủ mọi quy tắc, nhưng tìm kiếm dừng theo đồng hồ nên chạy lại có thể cho phương án khác (tốt ngang hoặc hơn). Tăng --time-limit để có thêm thời gian chứng minh.",
            "en": "The plan was not proven optimal within the time limit; it meets every rule, but the search stopped on the clock, so a rerun may give a different plan (as good or better). Raise --time-limit to give the proof more time.",
        },
        "solve.bound_still_rising": {
            "vi": "Cận dưới dùng để tính khoảng cách tối ưu vẫn đang tăng khi hết phần thời gian dành cho nó, nên khoảng cách này chỉ là mức tối đa: phương án có thể gần tối ưu hơn con số đó. Tăng --time-limit để có cận dưới chặt hơn.",
            "en": "The lower bound behind the optimality gap was still rising when its share of the time ran out, so the gap is only an upper limit: the plan may be closer to the best than it says. Raise --time-limit for a tighter bound.",
        },
        "solve.bound_interrupted": {
            "vi": "Đã dừng sớm nên cận dưới có ít thời gian hơn dự kiến: khoảng cách tối ưu này chỉ là mức tối đa, phương án có thể gần tối ưu hơn con số đó.",
            "en": "Stopped early, so the lower bound had less time than planned: the gap is only an upper limit, and the plan may be closer to the best than it says.",
        },
        "solve.counts_sampled": {
            "vi": "Chỉ thử {tried}/{total} số cụm khả dĩ ({counts}) trong giới hạn thời gian; hãy tăng --time-limit để thử hết.",
            "en": "Only {tried} of {total} possible cluster counts ({counts}) were tried within the time limit; raise --time-limit to try them all.",
        },
        "solve.limit_for_size": {
            "vi": "Với {n} đơn vị, nên dùng --time-limit {seconds}.",
            "en": "For {n} units, --time-limit {seconds} is suggested.",
        },
        "solve.no_solution": {
            "vi": "Không tìm được phương án nào trong {limit:g} giây; hãy thử --time-limit {suggest:g}.",
            "en": "No plan found within {limit:g} s; try --time-limit {suggest:g}.",
        },
    }
)

#: Up to this many units the model holds every pair the rules allow (exact bound).
FULL_MODEL_MAX_UNITS = 150
#: From this gap on, a plan whose Lagrangian bound stopped while still rising
#: says so: planners read a gap of one half as "this plan may be twice too
#: costly" (sample tables, similarity on function / region / location,
#: population ±10 %, 60 s: gaps 0.53 / 0.82 at 3 300 / 10 000 units with the
#: bound still rising after its top-up, :data:`optimizer.bound.TOPUP_FACTOR`).
#: The same line as the top-up's, so where the Lagrangian is the whole bound the
#: note speaks of one that already had it (with a column bound, ``bound_converged``
#: is the Lagrangian part's and the note may come without a top-up).
BOUND_NOTE_GAP = TOPUP_GAP

#: Least nominal seconds one cluster count needs: a fixed part plus a part per
#: unit (seeding, start, model). Measured: 18 counts of a 300-unit table in a
#: 5 s limit took 73 s (~4 s each, loaded machine), so a count range gets only
#: as many counts as the limit holds, spread evenly over the range.
COUNT_MIN_S = 0.5
COUNT_S_PER_UNIT = 0.005
#: Share of a large table's count time its k-means seed may take (counted in
#: distance evaluations, :data:`optimizer.seed.KMEANS_PAIRS_PER_S`). Never binds
#: on the benchmark's tables (50 000 units x 500 clusters at 60 s: 59 iterations
#: of the 120 allowed); 50 000 units in 7 000 clusters get 8 instead of 27.
SEED_SHARE = 0.1
#: Small tables (the exact path) with a band and clusters of ≤ 16 units on average,
#: from 100 units: the large path's phases (balanced start, local search, regional
#: restarts, annealing) run first on a share of the time, without their bound, and
#: their plan is offered to the exact search as its incumbent. Its own incumbent
#: (construct, local search, medoid descent) sat 4–7 % above theirs, and HiGHS,
#: still at its root node, did not close that in 30 s. Measured, 30 s, objective
#: without → with: ``cumkhoi init``'s scenario on ``cumkhoi sample --seed 4`` tables,
#: 100 units (17 clusters of 4–7, ±15 %) 172.2 → 165.4 (gap 0.089 → 0.051), 150 units
#: (25 of 5–7, ±30 %) 238.5 → 221.1 (0.162 → 0.096); the benchmark's F at 100 units
#: (K = 8), seeds 0–2: 131.6 / 124.3 / 130.5 → 127.5 / 123.6 / 130.5. At 63 units
#: (K = 8) it was mixed (76.57 / 84.34 / 81.19 → 76.89 / 85.83 / 80.07), and the
#: bundled 34-province table proves optimal in 5 s without it: below 100 units the
#: exact search keeps all the time.
PHASES_FIRST_MIN_UNITS = 100
PHASES_FIRST_MAX_MEAN_SIZE = 16
PHASES_FIRST_SHARE = 0.3
#: ... at most this many seconds (with 60 s or more the exact search keeps the rest).
PHASES_FIRST_MAX_S = 10.0


def _solve_count(
    problem: Problem,
    data: ModelData,
    k: int,
    deadline: float,
    started: float,
    progress: Callable[[ProgressEvent], None] | None,
    stop: threading.Event | None,
    nominal_s: float | None = None,
) -> _Outcome:
    rules = problem.rules
    seed_labels = None
    if data.n > FULL_MODEL_MAX_UNITS and rules.max_moves is not None and not rules.contiguous:
        # a move budget starts from the current grouping (lns.solve_large), which is
        # the better seed too: k-means took 12 s of 60 at 50 000 units, unused
        from optimizer.move_cost_search import current_labels

        start = current_labels(problem, data, k)
        seed_labels = None if start is None else start.tolist()
    if seed_labels is None:
        cap = None
        if data.n > FULL_MODEL_MAX_UNITS and nominal_s is not None:
            # the seed runs before the phases' clock: its KMeans iterations are
            # capped by a share of this count's time (50 000 units, 7 000
            # clusters, 60 s: 27 iterations took 13 s, and the plan came at 66 s)
            cap = int(SEED_SHARE * nominal_s * KMEANS_PAIRS_PER_S)
        seed_labels = _seed_labels(problem, k, cap)
    hint = _medoids_of(problem, seed_labels)
    if data.n <= FULL_MODEL_MAX_UNITS:
        cands = full_candidates(
            data, k, max_size=rules.max_size, contiguous=rules.contiguous
        )
        am = build_model(problem, k, cands, data=data)
        from optimizer.small_exact import search_with_fixing

        offered = None
        if _phases_first(data, am, k):
            pre = _large_phases(problem, data, k, seed_labels, hint, deadline, started,
                                progress, stop, nominal_s)
            asked = stop is not None and stop.is_set() and pre.medoid_of is not None
            if pre.interrupted or asked:  # Ctrl-C / stop: the planner asked for the plan now
                pre.interrupted = True
                pre.seed_labels = seed_labels
                return pre
            offered = pre.medoid_of
        out = search_with_fixing(problem, am, seed_labels, hint, deadline, started, progress,
                                 stop, nominal_s=nominal_s, offered=offered)
        if offered is not None:
            out.extra["phases_first_cost"] = pre.model_cost / COST_SCALE
        if out.medoid_of is not None and not out.proven and not out.interrupted:
            # the exact search runs until it proves or the limit ends it, and HiGHS
            # and CP-SAT stopped by a clock need not stop at the same plan twice
            out.extra["exact_clock_stopped"] = True
    else:
        from optimizer.lns import solve_large

        out = solve_large(problem, data, k, seed_labels, hint, deadline, started, progress, stop,
                          nominal_s=nominal_s)
    out.seed_labels = seed_labels
    return out


def _phases_first(data: ModelData, am: AssignmentModel, k: int) -> bool:
    """Whether a small table's exact search should start from the large path's plan."""
    from optimizer.mip_exact import mip_applies

    return (data.n >= PHASES_FIRST_MIN_UNITS and bool(data.balance) and mip_applies(am)
            and data.n / k <= PHASES_FIRST_MAX_MEAN_SIZE)


def _large_phases(
    problem: Problem,
    data: ModelData,
    k: int,
    seed_labels: list[int],
    hint: dict[int, int],
    deadline: float,
    started: float,
    progress: Callable[[ProgressEvent], None] | None,
    stop: threading.Event | None,
    nominal_s: float | None,
) -> _Outcome:
    """The large path's phases (no bound) on a share of the count's time."""
    from optimizer.lns import solve_large

    now = time.monotonic()
    nominal = nominal_s if nominal_s is not None else max(deadline - now, 0.0)
    share = min(PHASES_FIRST_SHARE * nominal, PHASES_FIRST_MAX_S)
    wall = min(PHASES_FIRST_SHARE * max(deadline - now, 0.0), PHASES_FIRST_MAX_S)
    return solve_large(problem, data, k, seed_labels, hint, now + wall, started, progress, stop,
                       nominal_s=share, with_bound=False)


def counts_to_try(counts: list[int], n_units: int, time_limit_s: float) -> list[int]:
    """The cluster counts the time limit holds, spread evenly over ``counts``.

    Deterministic (a function of the table size and the nominal limit, never
    of a clock), so the same input and seed still give the same plan. The
    ends of the range are always tried.
    """
    need = COUNT_MIN_S + COUNT_S_PER_UNIT * n_units
    room = max(1, int(time_limit_s // need))
    if len(counts) <= room:
        return list(counts)
    if room == 1:
        return [counts[len(counts) // 2]]
    picks = np.unique(np.linspace(0, len(counts) - 1, room).round().astype(int))
    return [counts[i] for i in picks.tolist()]


def solve(
    problem: Problem,
    *,
    progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> Plan:
    """The best verified plan for ``problem`` within its time limit.

    Parameters
    ----------
    problem
        Data, rules and solver settings.
    progress
        Called with a :class:`ProgressEvent` whenever a better plan is found.
    stop
        When set (another thread, a GUI button), the search stops and the best
        verified plan so far is returned with ``interrupted=True`` — at once in
        CP-SAT and HiGHS, between phases on tables over 150 units (each phase
        ends on its own work allowance: seconds to a minute at 50 000 units).

    Raises
    ------
    InfeasibleError
        Before solving (``precheck``) or when CP-SAT proves no plan exists.
    NoSolutionError
        The time limit passed without any plan.
    KeyboardInterrupt
        Ctrl-C before any plan was found.
    """
    started = time.monotonic()
    data = prepare(problem)
    possible = feasible_counts(problem, data)
    counts = counts_to_try(possible, data.n, problem.settings.time_limit_s)
    deadline = started + problem.settings.time_limit_s
    outcomes: list[_Outcome] = []
    interrupted = count_clock_stopped = False
    try:
        for idx, k in enumerate(counts):
            if idx > 0 and time.monotonic() >= deadline and any(
                o.medoid_of is not None for o in outcomes
            ):
                # safety stop: the limit is spent and a plan is in hand
                counts, count_clock_stopped = counts[:idx], True
                break
            share = (deadline - time.monotonic()) / (len(counts) - idx)
            # the large path decides from this nominal share (never a clock reading)
            nominal = problem.settings.time_limit_s / len(counts)
            outcomes.append(
                _solve_count(problem, data, k, time.monotonic() + share, started, progress, stop,
                             nominal_s=nominal)
            )
            if outcomes[-1].interrupted:
                interrupted = True
                break
    except KeyboardInterrupt:
        if not any(o.medoid_of is not None for o in outcomes):
            raise
        interrupted = True
    ctrl_c = interrupted and not (stop is not None and stop.is_set())
    return _finish(problem, data, counts, outcomes, started, interrupted, ctrl_c,
                   possible=possible, clock_stopped=count_clock_stopped)


def _with_size_hint(note: str, problem: Problem, n_units: int) -> str:
    """``note`` (which asks for a longer --time-limit) with the value that suits the
    table, when this run's limit was below it: "raise it" alone leaves a planner
    guessing, and at 10 000+ units 30 s gives gaps near 1 (``suggested_time_limit``)."""
    seconds = suggested_time_limit(n_units)
    if problem.settings.time_limit_s >= seconds:
        return note
    return f"{note} {tr('solve.limit_for_size', n=n_units, seconds=seconds)}"


def _finish(
    problem: Problem,
    data: ModelData,
    counts: list[int],
    outcomes: list[_Outcome],
    started: float,
    interrupted: bool,
    ctrl_c: bool = False,
    *,
    possible: list[int] | None = None,
    clock_stopped: bool = False,
) -> Plan:
    solved = [o for o in outcomes if o.medoid_of is not None]
    if not solved:
        if ctrl_c:
            raise KeyboardInterrupt
        proven = [o for o in outcomes if o.infeasible and o.bound_scope == "full"]
        # a proof needs every possible count, not only those the limit held
        if proven and len(proven) == len(possible if possible is not None else counts):
            rules = sorted({r for o in proven for r in o.rules})
            raise InfeasibleError(
                tr("solve.infeasible", rules=", ".join(rules), k=", ".join(str(o.n_clusters) for o in proven)),
                rules=rules,
            )
        limit = problem.settings.time_limit_s
        suggest = max(120.0, 4 * limit, suggested_time_limit(data.n))
        raise NoSolutionError(tr("solve.no_solution", limit=limit, suggest=suggest))

    per_count: dict[str, dict[str, object]] = {}
    best: tuple[float, _Outcome, list[int], tuple[str, ...]] | None = None
    for o in solved:
        assert o.medoid_of is not None
        clusters, labels = label_partition(o.medoid_of, data)
        score = calinski_harabasz(clusters, problem.features)
        per_count[str(o.n_clusters)] = {
            "status": "OPTIMAL" if o.proven else "FEASIBLE",
            "objective": o.model_cost / COST_SCALE if o.model_cost is not None else None,
            "bound": o.bound / COST_SCALE,
            "bound_scope": o.bound_scope,
            "calinski_harabasz": score,
        }
        if best is None or score > best[0] + 1e-12:
            best = (score, o, clusters, labels)
    for o in outcomes:
        if o.medoid_of is None:
            per_count[str(o.n_clusters)] = {"status": "INFEASIBLE" if o.infeasible else "UNKNOWN"}
    assert best is not None
    _, chosen, clusters, labels = best

    dispersion = medoid_dispersion(problem.features, clusters)
    moved = count_moved(clusters, labels, data) if any(g >= 0 for g in data.current) else 0
    cost = dispersion + move_cost(problem.rules.stability_weight) * moved
    bound = min(chosen.bound, cost)
    status = SolveStatus.OPTIMAL if chosen.proven and cost <= chosen.bound else SolveStatus.FEASIBLE
    ids = problem.unit_ids
    seed_labels = chosen.seed_labels
    details: dict[str, object] = {
        "objective_definition": OBJECTIVE_DEFINITION,
        "cost_scale": COST_SCALE,
        "objective_scaled": cost,
        "dispersion": dispersion / COST_SCALE,
        "units_moved": moved,
        "bound_scope": chosen.bound_scope,
        "model": "exact" if data.n <= FULL_MODEL_MAX_UNITS else "restricted+lns",
        "n_pairs": chosen.n_pairs,
        "iterations": chosen.iterations,
        "contiguity_cuts": chosen.cuts,
        "rules": chosen.rules,
        "counts": per_count,
        "count_choice": "calinski_harabasz" if len(counts) > 1 else "fixed",
        "counts_possible": len(possible) if possible is not None else len(counts),
        "medoids": [ids[m] for m in sorted(set(chosen.medoid_of or []))],
    }
    for key, value in chosen.extra.items():
        details[key] = value
    if clock_stopped:  # the clock ended the count loop: later counts were not tried
        details["clock_stopped"] = True
    notes: tuple[str, ...] = (
        (_with_size_hint(tr("solve.clock_stopped"), problem, data.n),)
        if details.get("clock_stopped") else ())
    if details.get("exact_clock_stopped") and status is SolveStatus.FEASIBLE:
        notes += (tr("solve.exact_clock_stopped"),)
    gap = (cost - bound) / max(abs(cost), 1)
    if status is SolveStatus.FEASIBLE and interrupted and gap >= BOUND_NOTE_GAP:
        # after Ctrl-C the bound gets seconds (lns.INTERRUPTED_BOUND_S): "raise
        # --time-limit" would be the wrong advice
        notes += (tr("solve.bound_interrupted"),)
    elif (status is SolveStatus.FEASIBLE and details.get("bound_converged") is False
            and gap >= BOUND_NOTE_GAP):
        notes += (_with_size_hint(tr("solve.bound_still_rising"), problem, data.n),)
    if possible is not None and len(counts) < len(possible):
        notes += (tr("solve.counts_sampled", tried=len(counts), total=len(possible),
                     counts=", ".join(str(k) for k in counts)),)
    plan = Plan(
        assignment=Assignment(labels={ids[i]: c for i, c in enumerate(clusters)}),
        cluster_labels=labels,
        status=status,
        objective=cost / COST_SCALE,
        bound=bound / COST_SCALE,
        solve_seconds=time.monotonic() - started,
        seed=problem.settings.seed,
        seed_assignment=Assignment(labels={ids[i]: int(c) for i, c in enumerate(seed_labels)})
        if seed_labels is not None
        else None,
        interrupted=interrupted,
        notes=notes,
        details=details,
    )
    violations = check_plan(plan, problem)
    if violations:
        raise RuntimeError(
            "internal error: the solver's plan fails check_plan: "
            + "; ".join(v.message for v in violations[:5])
        )
    return plan
