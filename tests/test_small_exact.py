"""optimizer.small_exact: heuristic incumbent + reduced-cost fixing still gives the proven optimum."""

from __future__ import annotations

from helpers import make_problem, make_profiles, sample_problem
from test_bruteforce import brute_force

from optimizer.check import check_plan
from optimizer.objective import COST_SCALE
from optimizer.plan import SolveStatus
from optimizer.solve import solve


def _line_problem(values: list[float], **rules):
    rows = [{"unit_id": f"u{i}", "x": float(v), "population": 10.0 + i}
            for i, v in enumerate(values)]
    return make_problem(make_profiles(rows), weights={"x": 1.0}, time_limit_s=20.0, **rules)


def test_fixing_path_reaches_brute_force_optimum():
    """8 units on a line, sizes 2–3: the fixing path is taken and proves the brute-force optimum."""
    problem = _line_problem([0, 1, 2, 9, 10, 11, 30, 31], n_clusters=3, min_size=2, max_size=3)
    plan = solve(problem)
    assert plan.status is SolveStatus.OPTIMAL
    assert plan.details["fixing_rounds"] >= 1
    assert plan.details["fixed_pairs"] > 0  # crossing the gaps cannot pay
    assert round(plan.objective * COST_SCALE) == brute_force(problem)[3]


def test_fixing_path_with_balance_band():
    """With a population band the optimum still equals brute force."""
    problem = _line_problem([0, 1, 2, 9, 10, 11, 30], n_clusters=2, balance={"population": 0.5})
    plan = solve(problem)
    assert plan.status is SolveStatus.OPTIMAL
    assert round(plan.objective * COST_SCALE) == brute_force(problem)[2]


def test_identical_units_proven_by_the_lagrangian_alone():
    """All units equal: every plan costs 0 and the Lagrangian bound proves it without a search."""
    problem = _line_problem([5.0] * 6, n_clusters=2, min_size=3, max_size=3)
    plan = solve(problem)
    assert plan.status is SolveStatus.OPTIMAL and plan.objective == 0.0
    assert plan.details["fixing_rounds"] == 1


def test_a_proven_plan_carries_no_rerun_note():
    """The search ended by its own proof: nothing to warn about."""
    problem = _line_problem([0, 1, 2, 9, 10, 11, 30, 31], n_clusters=3, min_size=2, max_size=3)
    plan = solve(problem)
    assert plan.status is SolveStatus.OPTIMAL
    assert "exact_clock_stopped" not in plan.details and plan.notes == ()


def test_an_unproven_small_plan_says_a_rerun_may_differ():
    """100 units, 8 clusters, ±10 % population, 2 s: HiGHS is stopped by the clock before its proof.

    The time limit, not a count of work, ends the exact search (HiGHS has no
    deterministic work limit), so the plan must say a rerun can end elsewhere.
    """
    problem = sample_problem(100, 8, 2.0, with_adjacency=False, balance={"population": 0.10})
    plan = solve(problem)
    assert plan.status is SolveStatus.FEASIBLE
    assert plan.details["exact_clock_stopped"] is True
    assert any("chạy lại có thể cho phương án khác" in note for note in plan.notes)
    assert check_plan(plan, problem) == []


def test_small_banded_tables_of_many_small_clusters_start_from_the_large_path(monkeypatch):
    """120 units in 20 clusters of 5–7 under a population band: the large path's phases run
    first and their plan is offered to the exact search, which never ends above it; 63 units
    keep the exact search alone (it proves or nearly, and the bundled table in 5 s)."""
    import optimizer.solve as solve_module

    offered: list[float] = []
    real = solve_module._large_phases

    def recorded(*args, **kwargs):
        out = real(*args, **kwargs)
        offered.append(out.model_cost / COST_SCALE)
        assert out.bound == 0  # the phases' own bound is skipped: the exact search bounds
        return out

    monkeypatch.setattr(solve_module, "_large_phases", recorded)
    problem = sample_problem(120, 20, 5.0, with_adjacency=False, balance={"population": 0.30})
    plan = solve(problem)
    assert len(offered) == 1 and plan.details["phases_first_cost"] == offered[0]
    assert plan.objective <= offered[0]
    assert 0 < plan.bound <= plan.objective
    assert check_plan(plan, problem) == []

    small = sample_problem(63, 8, 1.0, with_adjacency=False, balance={"population": 0.10})
    assert "phases_first_cost" not in solve(small).details
    assert len(offered) == 1


def test_a_stop_during_the_phases_first_returns_their_plan():
    """``stop`` set while the large path's phases run first: their verified plan comes back,
    interrupted, without the exact search (and its band bound's seconds) after them."""
    import threading
    import time

    problem = sample_problem(120, 20, 20.0, with_adjacency=False, balance={"population": 0.30})
    stop = threading.Event()
    timer = threading.Timer(1.0, stop.set)
    timer.start()
    began = time.monotonic()
    plan = solve(problem, stop=stop)
    timer.cancel()
    assert plan.interrupted
    assert time.monotonic() - began < 8.0  # the 20-s limit, not the stop, would end it later
    assert check_plan(plan, problem) == []
