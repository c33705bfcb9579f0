"""solve() beyond FULL_MODEL_MAX_UNITS: repair + restricted model + LNS, still verified and honest."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import (
    current_grouping_problem,
    make_problem,
    make_profiles,
    roomy_deadline,
    sample_problem,
)

from features.sample import generate_units
from optimizer.check import check_plan
from optimizer.data import prepare
from optimizer.lns import full_lower_bound
from optimizer.objective import distance_matrix, partition_cost
from optimizer.plan import SolveStatus
from optimizer.repair import greedy_balanced, lp_balanced, repair_balance
from optimizer.solve import FULL_MODEL_MAX_UNITS, solve


@pytest.mark.slow
def test_large_table_sizes_and_balance_gives_a_verified_plan():
    """200 units, 10 clusters, sizes ±1 and population ±10 %: a verified plan with a valid bound."""
    problem = sample_problem(200, 10, 6.0, balance={"population": 0.10})
    assert problem.profiles.n_units > FULL_MODEL_MAX_UNITS
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.status is SolveStatus.FEASIBLE
    assert plan.details["bound_scope"] == "full"
    assert plan.bound <= plan.objective
    assert plan.details["model"] == "restricted+lns"
    assert plan.solve_seconds < 6.0 + 3.0


def test_full_lower_bound_is_below_every_partition():
    """The nearest-neighbour bound is ≤ the cost of the seed partition (hand-checkable inequality)."""
    problem = sample_problem(60, 5, 5.0)
    bound = full_lower_bound(problem.features, 5)
    dist = distance_matrix(problem.features)
    labels = np.arange(60) % 5
    assert bound <= partition_cost(labels.tolist(), dist)
    assert bound > 0


def test_balanced_starts_meet_sizes_and_bands():
    """LP and greedy starts, then repair, meet size and ±10 % population rules on 120 units."""
    problem = sample_problem(120, 6, 5.0, balance={"population": 0.10})
    data = prepare(problem)
    seed = [i % 6 for i in range(120)]
    for start in (lp_balanced(problem, data, 6, seed), greedy_balanced(problem, data, 6, seed)):
        assert start is not None
        labels, violation = repair_balance(problem, data, 6, start, seconds=5.0)
        assert violation == 0.0
        sizes = np.bincount(labels, minlength=6)
        assert sizes.min() >= problem.rules.min_size and sizes.max() <= problem.rules.max_size
        pop = problem.profiles.column_values("population")
        totals = np.bincount(labels, weights=pop, minlength=6)
        mean = pop.sum() / 6
        assert np.all(totals >= 0.9 * mean) and np.all(totals <= 1.1 * mean)


def test_restricted_infeasibility_is_never_reported_as_proof(monkeypatch):
    """If the pruned model says 'infeasible' and nothing else works, the answer is NoSolution, not a proof."""
    import optimizer.search as search_module
    from optimizer.errors import NoSolutionError

    problem = sample_problem(160, 4, 2.0, balance={"population": 0.10})

    def infeasible_search(problem, am, hint, deadline, started, progress, stop, **kwargs):
        return search_module._Outcome(n_clusters=am.n_clusters, infeasible=True)

    monkeypatch.setattr(search_module, "_search", infeasible_search)
    monkeypatch.setattr("optimizer.lns.partition_passes", lambda *a: False)
    with pytest.raises(NoSolutionError):
        solve(problem)


def test_sparse_lp_start_with_a_feasible_plan_is_feasible_and_meets_the_rules():
    """Sparse LP (3 nearest centres + a feasible plan's arcs) on 120 units: repaired, it meets sizes and ±10 %."""
    problem = sample_problem(120, 6, 5.0, balance={"population": 0.10})
    data = prepare(problem)
    seed = [i % 6 for i in range(120)]
    feasible, violation = repair_balance(problem, data, 6, greedy_balanced(problem, data, 6, seed), seconds=5.0)
    assert violation == 0.0
    lp = lp_balanced(problem, data, 6, seed, nearest=3, keep=feasible, seconds=10.0)
    assert lp is not None and len(lp) == 120
    labels, left = repair_balance(problem, data, 6, lp, seconds=5.0)
    assert left == 0.0
    sizes = np.bincount(labels, minlength=6)
    assert sizes.min() >= problem.rules.min_size and sizes.max() <= problem.rules.max_size
    pop = problem.profiles.column_values("population")
    totals = np.bincount(labels, weights=pop, minlength=6)
    assert np.all(np.abs(totals / (pop.sum() / 6) - 1) <= 0.10)


@pytest.mark.slow
def test_local_search_runs_on_a_large_table_and_the_plan_is_verified():
    """400 units, 20 clusters, sizes ±1 and ±10 % population, 3 s: local search moved units, check_plan passes."""
    problem = sample_problem(400, 20, 3.0, balance={"population": 0.10})
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["ls_moves"] + plan.details["ls_swaps"] > 0
    assert plan.details["ls_dispersion_gain"] > 0
    assert plan.bound <= plan.objective
    assert plan.solve_seconds < 3.0 + 4.0


@pytest.mark.slow
def test_pairwise_rules_hold_on_a_large_table_with_local_search():
    """200 units, sizes ±1, ±10 % population, a together pair, an apart pair and a fixed unit: verified plan."""
    problem = sample_problem(
        200, 10, 6.0, balance={"population": 0.10},
        together=(("00001", "00150"),), apart=(("00002", "00003"),), fixed={"00004": "Cụm A"},
    )
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    labels = plan.assignment.labels
    assert labels["00001"] == labels["00150"]
    assert labels["00002"] != labels["00003"]
    assert plan.cluster_labels[labels["00004"]] == "Cụm A"
    assert plan.details["ls_moves"] + plan.details["ls_swaps"] > 0


def test_max_moves_on_a_large_table_starts_from_the_current_grouping():
    """300 units grouped by latitude band (sizes 25–35, within 20–40), max_moves 150: a verified plan, not 'no plan'."""
    frame, pairs = generate_units(300, seed=0)
    rows = [
        {"unit_id": r.unit_id, "name": r["name"], "function": r.function, "region": r.region,
         "lat": r.lat, "lon": r.lon, "population": float(r.population),
         "current_cluster": f"G{int(r.lat * 10) % 10}"}
        for _, r in frame.iterrows()
    ]
    problem = make_problem(
        make_profiles(rows), weights={"function": 1.0, "location": 1.0, "population": 1.0},
        pairs=pairs, n_clusters=10, min_size=20, max_size=40, time_limit_s=6.0, max_moves=150,
    )
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["units_moved"] <= 150


#: A planner's usual similarity: population is balanced (a band) but not a criterion.
PLANNER_WEIGHTS = {"function": 1.0, "region": 1.0, "location": 1.0}


def _planner_table(n_units: int, n_clusters: int, time_limit_s: float):
    """A sample table as planners set it up: similar in function, region and place; population ±10 %."""
    return sample_problem(n_units, n_clusters, time_limit_s, with_adjacency=False,
                          weights=PLANNER_WEIGHTS, balance={"population": 0.10})


def test_a_large_gap_from_a_bound_still_rising_says_so():
    """2 000 units in 2 s: even topped up the bound is far from converged, and the plan says so."""
    from features.i18n import language, tr

    problem = _planner_table(2000, 40, 2.0)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["bound_converged"] is False and plan.gap >= 0.5
    with language("vi"):  # the note ends with the limit that suits 2 000 units
        (note,) = [n for n in plan.notes if n.startswith(tr("solve.bound_still_rising"))]
    assert note.endswith(" Với 2000 đơn vị, nên dùng --time-limit 30.")


def test_a_modest_gap_carries_no_bound_note():
    """400 units in 3 s: the bound is not converged either, but a gap under one half needs no note."""
    from features.i18n import language, tr

    problem = _planner_table(400, 8, 3.0)
    plan = solve(problem)
    assert plan.gap < 0.5
    with language("vi"):
        assert not any(n.startswith(tr("solve.bound_still_rising")) for n in plan.notes)


def test_a_loose_rising_bound_gets_one_larger_allowance(monkeypatch):
    """1 000 units in 5 s, a top-up wanted from a gap of 0.2: it raises the bound of the same
    plan, repeatably. The top-up's steps stop at the wall-clock deadline, so a run the clock
    cut proves nothing about repeatability: under `-n 2` that happened in most clean-clone
    CI runs, and the test skipped itself there (15 s for nothing). So the safety stop gets
    60 s more here, the nominal 5 s unchanged (as in test_determinism_large.py). Whether a
    gap wants a top-up is asked of the bound itself (a third solve took 6 s)."""
    from types import SimpleNamespace

    import optimizer.lns as lns
    from optimizer.bound import BOUND_WORK_PER_S
    from optimizer.budget import work
    from optimizer.data import prepare
    from optimizer.objective import COST_SCALE

    roomy_deadline(monkeypatch)
    monkeypatch.setattr(lns, "TOPUP_GAP", 0.2)
    problem = _planner_table(1000, 20, 5.0)
    topped, again = solve(problem), solve(problem)
    for p in (topped, again):
        assert not p.details.get("bound_clock_stopped") and not p.details.get("bound_topup_skipped")
    assert topped.details["bound_topup"] is True
    assert topped.details["bound_before_topup"] < topped.bound <= topped.objective
    assert (again.bound, again.objective) == (topped.bound, topped.objective)
    # the same plan's bound, asked directly: a top-up below the gap asked for, none above it
    out = SimpleNamespace(interrupted=False, medoid_of=[
        topped.assignment.labels[u] for u in problem.profiles.unit_ids])
    bands = [(b.values, *b.band(20)) for b in prepare(problem).balance]
    for gap, wanted in ((0.2, True), (2.0, False)):  # a gap never reaches 2
        monkeypatch.setattr(lns, "TOPUP_GAP", gap)
        extra: dict[str, object] = {}
        lns._lagrangian(problem, problem.features, 20, out, extra,
                        allowance=work(0.1, BOUND_WORK_PER_S), balance=bands,
                        bound_end=time.monotonic() + 1e6,
                        cost=round(topped.objective * COST_SCALE))
        assert ("bound_topup" in extra) is wanted


def test_no_top_up_when_it_cannot_end_in_time(monkeypatch):
    """1 000 units in 4 s with a bound that takes 1.5 s more: a top-up (whose neighbour search
    alone may take twice that) would overrun the limit, so it is skipped and recorded."""
    import time

    import optimizer.lns as lns

    monkeypatch.setattr(lns, "TOPUP_GAP", 0.2)
    problem = _planner_table(1000, 20, 4.0)
    real = lns.lagrangian_bound
    calls: list[int] = []

    def slow(*args, **kwargs):
        calls.append(kwargs["max_work"])
        out = real(*args, **kwargs)
        time.sleep(1.5)  # after its work: the result is not cut by the clock
        return out

    monkeypatch.setattr(lns, "lagrangian_bound", slow)
    started = time.monotonic()
    plan = solve(problem)
    assert time.monotonic() - started < 4.0 + 2.0
    assert len(calls) == 1
    assert "bound_topup" not in plan.details  # never begun
    # a loaded machine (the suite under -n 2) can let the clock cut the first bound, which
    # then wants no top-up at all (failed once so, in the thirteenth session)
    if not plan.details.get("bound_clock_stopped"):
        assert plan.details["bound_topup_skipped"] is True
    assert check_plan(plan, problem) == []


def _solve_with_the_search_to_the_limit(monkeypatch, problem):
    """Solve with the large path's local search stalling to the time limit (a slow machine or
    optimistic work rates); returns the plan and the solve's wall seconds."""
    import time

    import optimizer.lns as lns

    real_improve = lns.improve

    def improve_then_stall(*args, **kwargs):
        out = real_improve(*args, **kwargs)
        time.sleep(max(started + problem.settings.time_limit_s - time.monotonic(), 0.0))
        return out

    monkeypatch.setattr(lns, "improve", improve_then_stall)
    started = time.monotonic()
    plan = solve(problem)
    return plan, time.monotonic() - started


def test_no_bound_search_when_the_phases_used_its_time(monkeypatch):
    """The last search overruns the whole limit (a slow machine, or optimistic work rates): the
    Lagrangian does not start, the bound is the nearest-neighbour one and says the clock cut it."""

    import optimizer.lns as lns

    problem = _planner_table(1000, 20, 2.0)
    calls: list[int] = []

    def never(*args, **kwargs):
        calls.append(1)
        return lns.BoundResult(0, 0, 0, 0, False)

    monkeypatch.setattr(lns, "lagrangian_bound", never)
    plan, wall = _solve_with_the_search_to_the_limit(monkeypatch, problem)
    assert wall < 2.0 + 1.0
    assert calls == []
    assert plan.details["bound_clock_stopped"] is True
    assert plan.bound == pytest.approx(full_lower_bound(problem.features, 20) / 10_000)
    assert check_plan(plan, problem) == []


def test_a_late_bound_skips_the_costly_nearest_neighbour_search(monkeypatch):
    """Past the bound's end the nearest-neighbour bound is skipped where it is costly (50 000
    units: ~4 s, the plan came 2 s after a 60-s limit); the plan keeps the bound in hand (0
    here), says the clock cut it, and comes within the limit."""

    import optimizer.lns as lns

    problem = _planner_table(1000, 20, 2.0)
    nearest: list[int] = []

    def counted(features, k):
        nearest.append(k)
        return full_lower_bound(features, k)

    monkeypatch.setattr(lns, "full_lower_bound", counted)
    monkeypatch.setattr(lns, "NEAREST_BOUND_S_PER_UNIT", 1.0)  # as if 1 000 units took 1 000 s
    plan, wall = _solve_with_the_search_to_the_limit(monkeypatch, problem)
    assert wall < 2.0 + 1.0
    assert nearest == []
    assert plan.details["nearest_bound_skipped"] is True
    assert plan.details["bound_clock_stopped"] is True
    assert plan.bound == 0
    assert check_plan(plan, problem) == []


def test_a_late_column_bound_is_skipped_where_its_first_step_is_costly(monkeypatch):
    """Population both balanced and a similarity criterion (the benchmark's F): its linear
    column bound's first step cannot stop (2 s at 50 000 units). Past the bound's end and
    costly it is skipped, the plan says so and keeps the other columns' bound; cheap, it still
    runs late, as before (``test_no_bound_search_when_the_phases_used_its_time``)."""

    import optimizer.column_bound as column_bound
    import optimizer.lns as lns

    problem = sample_problem(1000, 20, 2.0, with_adjacency=False, balance={"population": 0.10})
    column_steps: list[int] = []

    def counted(*args, **kwargs):
        column_steps.append(1)
        raise AssertionError("the column bound began past the limit")

    monkeypatch.setattr(column_bound, "column_band_bound", counted)
    monkeypatch.setattr(lns, "COLUMN_STEP_S_PER_UNIT", 1.0)  # as if 1 000 units took 1 000 s
    plan, wall = _solve_with_the_search_to_the_limit(monkeypatch, problem)
    assert wall < 2.0 + 1.0
    assert column_steps == []
    assert plan.details["column_bound_skipped"] is True
    assert "pattern_bound_iterations" not in plan.details  # clusters of ~50: not its scope
    assert plan.details["bound_clock_stopped"] is True
    assert 0 <= plan.bound <= plan.objective
    assert check_plan(plan, problem) == []


def test_the_pattern_bound_runs_late_where_the_linear_one_would_be_skipped(monkeypatch):
    """Clusters of 5–7 (what ``cumkhoi init`` proposes): the pattern bound stops between its
    rounds, so the linear bound's costly first step is no reason to skip it. Skipped with it,
    a loaded 50 000-unit solve reported a bound of 0 where an unloaded one had 916."""

    import optimizer.column_bound as column_bound
    import optimizer.lns as lns

    roomy_deadline(monkeypatch)  # the bound's work, not another worker's load, decides
    problem = sample_problem(600, 100, 3.0, with_adjacency=False, balance={"population": 0.55})
    monkeypatch.setattr(column_bound, "column_band_bound", _never_the_linear_bound)
    # enough work for its rounds at this size and limit (the product gives it 5 ×)
    monkeypatch.setattr(column_bound, "PATTERN_WORK_PER_COLUMN_WORK", 50)
    monkeypatch.setattr(lns, "COLUMN_STEP_S_PER_UNIT", 1.0)
    plan = solve(problem)
    # it ran (the linear bound never did) and, the safety stop moved away, for all its
    # work's rounds: 103.3 in 40, against the linear bound's 34.6 at this limit
    assert plan.details["pattern_bound_iterations"] > 0
    assert plan.details["column_bound"] > 2 * 34.6
    assert "column_bound_skipped" not in plan.details
    assert 0 < plan.bound <= plan.objective
    assert check_plan(plan, problem) == []


def _never_the_linear_bound(*args, **kwargs):
    raise AssertionError("the linear column bound ran")


def test_a_start_attempt_that_ends_past_the_limit_begins_no_other(monkeypatch):
    """The balanced start tries the LP start (or a decomposition), then biggest-first dealing,
    each unable to stop inside a step. When one ends past the count's deadline with a
    violation, no other begins (50 000 units in 7 000 clusters, 10 s: three ran in turn, plan
    at 25 s): no plan, said at the limit."""
    import time

    import optimizer.construct as construct
    from optimizer.errors import NoSolutionError

    problem = _planner_table(1000, 20, 2.0)
    dealt: list[int] = []

    def slow_lp(problem, data, k, seed_labels, *, clock, **kwargs):
        time.sleep(max(clock.deadline - time.monotonic(), 0.0) + 0.05)
        return [0] * data.n  # one cluster: breaks sizes and bands

    def dealing(*args, **kwargs):
        dealt.append(1)
        raise AssertionError("the dealing began past the limit")

    monkeypatch.setattr(construct, "lp_balanced", slow_lp)
    monkeypatch.setattr(construct, "greedy_balanced", dealing)
    started = time.monotonic()
    with pytest.raises(NoSolutionError):
        solve(problem)
    assert time.monotonic() - started < 2.0 + 1.0
    assert dealt == []


def test_a_negative_lagrangian_value_is_never_the_bound(monkeypatch):
    """With the nearest-neighbour bound skipped (late and costly), the bound was the
    Lagrangian's value as it stood, which can be negative (20 000 units, one_region, 10 s:
    bound −0.88); every cost is ≥ 0, so the bound is 0 then."""
    import optimizer.lns as lns

    problem = _planner_table(1000, 20, 2.0)
    monkeypatch.setattr(lns, "lagrangian_bound",
                        lambda *args, **kwargs: lns.BoundResult(-5_000, 1, 8, 0, False))
    monkeypatch.setattr(lns, "_fits", lambda cost_s, end: False)  # both costly bounds skipped
    plan = solve(problem)
    assert plan.details["nearest_bound_skipped"] is True
    assert plan.bound == 0
    assert check_plan(plan, problem) == []


def test_a_large_table_caps_its_seed_by_the_count_time(monkeypatch):
    """The k-means seed runs before the phases' clock, so a large table caps its work by a
    share of the count's time (optimizer.solve.SEED_SHARE); a small table keeps KMeans whole."""
    import optimizer.solve as solve_module
    from optimizer.seed import KMEANS_PAIRS_PER_S

    caps: list[int | None] = []
    real = solve_module._seed_labels

    def spy(problem, k, max_work=None):
        caps.append(max_work)
        return real(problem, k, max_work)

    monkeypatch.setattr(solve_module, "_seed_labels", spy)
    large = _planner_table(FULL_MODEL_MAX_UNITS + 50, 20, 1.0)
    assert check_plan(solve(large), large) == []
    assert caps == [int(solve_module.SEED_SHARE * 1.0 * KMEANS_PAIRS_PER_S)]
    caps.clear()
    small = _planner_table(60, 6, 1.0)
    solve(small)
    assert caps and set(caps) == {None}


def test_a_together_pair_costs_little_on_a_large_table():
    """1 200 units, sizes only: one `together` pair used to send the start down the repair
    path (10 000 units: 912.5 against 517.3 without the pair; here 2.1 % dearer); the flow
    start now runs and the pair is placed after it: 0.4 % dearer."""
    free = sample_problem(1200, 40, 6.0, with_adjacency=False)
    ids = free.unit_ids
    tied = sample_problem(1200, 40, 6.0, with_adjacency=False, together=((ids[0], ids[1]),))
    plan_free, plan_tied = solve(free), solve(tied)
    assert check_plan(plan_tied, tied) == []
    assert plan_tied.assignment.labels[ids[0]] == plan_tied.assignment.labels[ids[1]]
    assert plan_tied.objective <= 1.012 * plan_free.objective


def test_the_improving_lp_is_skipped_when_its_first_round_is_unaffordable(monkeypatch):
    """With a plan in hand (``keep``) the sparse LP is an improvement only: a round costing
    more than its allowance is not started (it used to take 23 of 26 nominal seconds)."""
    from optimizer.band_lp import BandAssignmentLP

    problem = sample_problem(300, 10, 5.0, with_adjacency=False)
    data = prepare(problem)
    start = [i % 10 for i in range(300)]
    calls: list[int] = []
    monkeypatch.setattr(BandAssignmentLP, "solve", lambda *a, **kw: calls.append(1))
    assert lp_balanced(problem, data, 10, start, nearest=3, keep=start, max_work=1) is None
    assert calls == []


def test_max_moves_starts_from_the_current_grouping_repaired():
    """400 units in their 49 current clusters, 6 of them off a ±60 % population band, at most
    40 moves: the repaired current grouping is a plan (no plan in 5 s before), every rule holds."""
    frame, k, problem = current_grouping_problem(40)
    totals = frame.groupby("current_cluster").population.sum() / (frame.population.sum() / k)
    assert ((totals - 1).abs() > 0.6).sum() > 0  # the current grouping alone breaks the band
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert 0 < plan.details["units_moved"] <= 40


def test_max_moves_plan_spends_its_moves_on_similarity(monkeypatch):
    """At most 120 moves: the repaired current grouping (10 moves) is improved by moves and
    swaps that keep the count within 120 (10 000 units, max_moves 1 500: 5 444.9 -> 4 441.8,
    1 472 moved). Here 219.8 -> 139.8, 117 moved."""
    import optimizer.lns as lns

    _, _, problem = current_grouping_problem(120)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["units_moved"] <= 120
    monkeypatch.setattr(lns, "improve", lambda p, d, k, labels, **kw: (labels, None))
    repaired = solve(problem)
    assert repaired.details["units_moved"] < 20
    assert plan.objective < 0.8 * repaired.objective


def test_max_moves_places_the_pinned_units_the_current_grouping_breaks():
    """A together group across three current clusters and an apart group inside one: the
    current grouping, those units placed and repaired, is the start (10 000 units, 1 500
    moves, three such rules: no plan in 30 s before; 4 434.2, 1 489 moved now)."""
    frame, _ = generate_units(400, seed=0)
    firsts = frame.groupby("current_cluster").unit_id.first().tolist()
    same = frame[frame.current_cluster == frame.current_cluster[0]].unit_id.tolist()
    _, _, problem = current_grouping_problem(120, together=[firsts[:3]], apart=[same[:3]])
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["units_moved"] <= 120


def test_no_restricted_model_when_the_start_used_the_time(monkeypatch):
    """The start ends with the rules broken and the clock nearly out: the restricted
    model's candidates and build (not stoppable: 2.2 s at 10 000 units) are not started,
    so the answer is "no plan in the time limit" on time (a 5-s check took 7.7 s)."""
    import time

    import optimizer.lns as lns
    from optimizer.errors import NoSolutionError

    problem = sample_problem(400, 20, 2.0, balance={"population": 0.10})
    calls: list[int] = []

    def slow_broken_start(problem, data, k, seed_labels, deadline, **kwargs):
        time.sleep(max(deadline - 0.2 - time.monotonic(), 0.0))
        return list(seed_labels), 1.0

    def restricted(*args, **kwargs):
        calls.append(1)
        raise AssertionError("built with no time left")

    monkeypatch.setattr(lns, "balanced_start", slow_broken_start)
    monkeypatch.setattr(lns, "repair_balance", lambda p, d, k, labels, **kw: (labels, 1.0))
    monkeypatch.setattr(lns, "_restricted", restricted)
    started = time.monotonic()
    with pytest.raises(NoSolutionError):
        solve(problem)
    assert calls == []
    assert time.monotonic() - started < 2.0 + 0.5


def test_a_bound_over_all_columns_where_the_balanced_column_pulls_apart(monkeypatch):
    """Population both balanced (±100 %, barely binding) and a criterion, clusters of 5–7:
    the decomposed bound adds population's own minimum (1.4) to the other columns' (5.6),
    while the plan pays for keeping both alike at once. The Lagrangian over all the columns
    sees that pull, so it also runs (column bound ≤ half the plan's own column part, gap ≥ ½)
    and the better bound is reported; measured 108.2 against 25.5 without it (plan 149.5)."""
    import optimizer.lns as lns

    roomy_deadline(monkeypatch)  # the bound's work, not another worker's load, decides
    problem = sample_problem(600, 100, 4.0, with_adjacency=False, balance={"population": 1.0})
    plan = solve(problem)
    assert "bound_all_columns" in plan.details
    assert plan.bound >= plan.details["bound_all_columns"]
    assert plan.bound <= plan.objective
    assert check_plan(plan, problem) == []
    monkeypatch.setattr(lns, "JOINT_COLUMN_SHARE", -1.0)  # never
    without = solve(problem)
    assert "bound_all_columns" not in without.details
    assert without.objective == plan.objective  # the plan never depends on its bound
    assert plan.bound >= 2 * without.bound


def test_ctrl_c_in_the_all_columns_bound_keeps_the_decomposed_one(monkeypatch):
    """Ctrl-C inside that last bound: the plan comes back interrupted with the decomposed bound
    it already had (the columns' parts added), not only the other columns' part."""
    import optimizer.lns as lns

    roomy_deadline(monkeypatch)  # the bound's work, not another worker's load, decides
    problem = sample_problem(600, 100, 4.0, with_adjacency=False, balance={"population": 1.0})
    real = lns.lagrangian_bound

    def ctrl_c_on_all_columns(values, *args, **kwargs):
        if values is problem.features:
            raise KeyboardInterrupt
        return real(values, *args, **kwargs)

    monkeypatch.setattr(lns, "lagrangian_bound", ctrl_c_on_all_columns)
    plan = solve(problem)
    assert plan.interrupted and plan.details["bound_interrupted"] is True
    parts = plan.details["column_bound"] + plan.details["rest_bound"]
    assert parts - 0.1 <= plan.bound <= plan.objective  # n / COST_SCALE for the roundings
    assert check_plan(plan, problem) == []


def test_sizes_only_small_clusters_are_annealed_and_their_bound_grouped(monkeypatch):
    """420 units in 70 clusters of 5–7, sizes only: the annealing follows the regional restarts
    (3 300 units that way, 30 s: 123.1 → 111.1) and the bound prices far units by medoid group.
    Clusters averaging more than the threshold keep the phases as they were."""
    import optimizer.bound as bound
    import optimizer.lns as lns

    monkeypatch.setattr(lns, "TOPUP_GAP", 0.2)  # the gap here is ~0.38
    weights = {"function": 2.0, "region": 2.0, "location": 1.0}
    problem = sample_problem(420, 70, 3.0, with_adjacency=False, weights=weights)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert "anneal=" in plan.details["phase_wall_s"] and plan.details["anneal_gain"] > 0
    assert plan.details["bound_groups"] > 0 and 0 < plan.bound <= plan.objective
    # sizes only, the grouped bound still rising: a top-up is wanted. Asked of the bound
    # itself with no deadline (in the solve a slow or busy machine's clock may stop the
    # bound first, and a clock-stopped bound wants no top-up)
    from types import SimpleNamespace

    from optimizer.bound import BOUND_WORK_PER_S
    from optimizer.budget import work
    from optimizer.objective import COST_SCALE

    out = SimpleNamespace(interrupted=False, medoid_of=[
        plan.assignment.labels[u] for u in problem.profiles.unit_ids])
    extra: dict[str, object] = {}
    grouped = lns._lagrangian(problem, problem.features, 70, out, extra,
                              allowance=work(0.3, BOUND_WORK_PER_S), balance=[],
                              bound_end=time.monotonic() + 1e6,
                              cost=round(plan.objective * COST_SCALE))
    assert grouped.groups > 0 and "bound_topup" in extra
    monkeypatch.setattr(lns, "SIZES_ANNEAL_MAX_MEAN_SIZE", 5)  # clusters here average 6
    monkeypatch.setattr(bound, "GROUP_MAX_SIZE", 5)
    plain = solve(problem)
    assert "anneal=" not in plain.details["phase_wall_s"]
    assert plain.details["bound_groups"] == 0
    assert not {"bound_topup", "bound_topup_skipped"} & set(plain.details)
