"""Ctrl-C inside the large path's numpy/HiGHS phases: the plan in hand survives.

Those phases have no stop checks inside, so Ctrl-C arrives as a
KeyboardInterrupt wherever Python happens to be. Before, one landing after the
start had a plan (the regional restarts, the annealing, the lower bound — most
of a banded solve) escaped ``solve`` and the verified plan was lost: ``cumkhoi
plan`` on 1 500 units, ±10 %, said "Aborted!" 15 s into a 60-s run and wrote
nothing. The real-signal test is ``test_interrupt.py``; here the interrupt is
raised at a chosen point.
"""

from __future__ import annotations

import pytest
from helpers import (
    ctrl_c_on_call,
    current_grouping_problem,
    roomy_deadline,
    sample_problem,
)

from optimizer import lns
from optimizer.bound import BOUND_WORK_PER_S
from optimizer.budget import work
from optimizer.check import check_plan
from optimizer.solve import FULL_MODEL_MAX_UNITS, solve


def _problem():
    problem = sample_problem(400, 20, 5.0, with_adjacency=False,
                             balance={"population": 0.10})
    assert problem.profiles.n_units > FULL_MODEL_MAX_UNITS
    return problem


def _ctrl_c(*_args, **_kwargs):
    raise KeyboardInterrupt


def _solve_keeping(problem):
    """solve(), failing the test (not the whole run) if the Ctrl-C escapes with the plan."""
    try:
        return solve(problem)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped solve(): the plan in hand was lost")


def test_ctrl_c_in_a_later_phase_keeps_the_last_phases_plan(monkeypatch):
    """Interrupted in the regional restarts: the start and local search's plan, verified."""
    seen = {}
    real_bound = lns.lagrangian_bound

    def bound_spy(*args, **kwargs):
        seen["max_work"] = kwargs["max_work"]
        return real_bound(*args, **kwargs)

    monkeypatch.setattr(lns, "band_regions", _ctrl_c)
    monkeypatch.setattr(lns, "lagrangian_bound", bound_spy)
    problem = _problem()
    plan = _solve_keeping(problem)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert 0.0 < plan.bound <= plan.objective
    assert plan.details["phase_wall_s"].split()[-1].startswith("interrupted=")
    # the bound gets at most its short allowance after Ctrl-C, never the top-up
    assert seen["max_work"] <= work(lns.INTERRUPTED_BOUND_S, BOUND_WORK_PER_S)


def test_ctrl_c_while_bounding_keeps_the_plan_with_a_valid_bound(monkeypatch):
    """Interrupted inside the lower bound: the finished plan, bound 0 (valid, weak)."""
    monkeypatch.setattr(lns, "lagrangian_bound", _ctrl_c)
    problem = _problem()
    plan = _solve_keeping(problem)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert plan.bound == 0.0
    assert plan.details["bound_interrupted"] is True


def test_ctrl_c_before_any_plan_is_passed_on(monkeypatch):
    """Interrupted in the start, before a plan meets the bands: nothing to keep, Ctrl-C re-raised."""
    monkeypatch.setattr(lns, "balanced_start", _ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        solve(_problem())


def test_each_phase_reports_its_plan_before_the_end():
    """The progress callback hears of the start's plan long before the bound, then of each gain.

    It heard only of the final plan before, so the progress line said "looking
    for a first plan…" for the whole run. Every report is a plan meeting sizes
    and bands at its medoid objective; the phases' reports only fall.
    """
    events = []
    problem = _problem()
    plan = solve(problem, progress=events.append)
    assert len(events) >= 2
    phases, final = events[:-1], events[-1]
    assert all(e.bound == 0.0 for e in events)
    assert all(b.objective < a.objective for a, b in zip(phases, phases[1:]))
    assert final.objective == pytest.approx(plan.objective)
    assert phases[0].elapsed_s < final.elapsed_s


def test_stop_is_honoured_between_phases():
    """``stop`` set at the first report: the phases end there, with that plan, interrupted.

    (``cumkhoi explain`` stops its feasibility checks this way; on a large
    table it waited for the whole solve before.)
    """
    import threading

    stop = threading.Event()
    events = []

    def first_only(event):
        events.append(event)
        stop.set()

    problem = _problem()
    plan = solve(problem, progress=first_only, stop=stop)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert plan.objective == pytest.approx(events[0].objective)
    assert "band_regions" not in plan.details["phase_wall_s"]


def test_stop_is_honoured_inside_a_phase(monkeypatch):
    """``stop`` set during the regional restarts: they end at their next try, with the gains
    kept so far, and the solve returns that plan interrupted (it waited for the phase's
    end before: 10–36 s at 3 300 units, ~200 s for the sizes-only restarts at 50 000)."""
    import threading

    from optimizer import band_regions

    roomy_deadline(monkeypatch)
    stop = threading.Event()
    real, calls = band_regions.lp_rounds, []

    def stop_at_the_50th(*args, **kwargs):
        calls.append(1)
        if len(calls) == 50:
            stop.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(band_regions, "lp_rounds", stop_at_the_50th)
    problem = _problem()
    plan = solve(problem, stop=stop)
    assert len(calls) == 50  # no try after the one that saw the stop
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    phases = plan.details["phase_wall_s"]
    assert "band_regions=" in phases and "final_search=" not in phases
    assert plan.details["clock_stopped"] is False  # not reported as the clock's doing
    assert plan.details["region_kept"] > 0


def test_stop_inside_the_move_budget_search_returns_the_plan_interrupted(monkeypatch):
    """``max_moves``: the search from the current grouping is the last phase, with no
    phase end after it to honour ``stop``. Cut there by ``stop``, the plan in hand must come
    back interrupted, not as if the search had run to its end."""
    import threading

    _, _, problem = current_grouping_problem(120)
    stop, real, searches = threading.Event(), lns.improve, []

    def stop_as_the_moves_search_starts(*args, **kwargs):
        if kwargs.get("home") is not None:  # the move-budget search
            searches.append(1)
            stop.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(lns, "improve", stop_as_the_moves_search_starts)
    plan = solve(problem, stop=stop)
    assert searches and plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert plan.details["units_moved"] <= 120


def test_ctrl_c_in_the_small_paths_band_bound_keeps_the_incumbent(monkeypatch):
    """≤ 150 units: Ctrl-C in the band bound (numpy, 1–10 s at 100 units) keeps the incumbent.

    It escaped before: 100 units F, 30 s, interrupted anywhere from 0.8 s to 6 s, no plan.
    """
    from optimizer import band_bound

    monkeypatch.setattr(band_bound, "band_lagrangian_bound", _ctrl_c)
    problem = sample_problem(100, 8, 10.0, with_adjacency=False, balance={"population": 0.10})
    assert problem.profiles.n_units <= FULL_MODEL_MAX_UNITS
    plan = _solve_keeping(problem)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert 0.0 <= plan.bound <= plan.objective


def test_ctrl_c_in_the_starts_improving_lp_keeps_the_repaired_plan(monkeypatch):
    """Ctrl-C in the start's sparse LP rounds (run on a plan already meeting the bands):
    that plan, interrupted and verified (3 300 units, 60 s: Ctrl-C at 3 s gave nothing,
    the first plan came at ~11 s; now a plan by 7 s)."""
    from optimizer import construct

    real = construct.lp_balanced

    def ctrl_c_when_improving(*args, **kwargs):
        if kwargs.get("keep") is not None:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(construct, "LP_MAX_PAIRS", 1000)  # the greedy start, then the sparse LP
    monkeypatch.setattr(construct, "lp_balanced", ctrl_c_when_improving)
    problem = _problem()
    plan = _solve_keeping(problem)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []


def test_ctrl_c_in_the_starts_lp_rounds_repairs_their_last_rounding(monkeypatch):
    """Ctrl-C in the start's second LP round: the first round's rounding, repaired, is the
    plan (700 units, 60 s: the rounds are the first ~10 s, and Ctrl-C in them lost all)."""
    from optimizer.band_lp import BandAssignmentLP

    calls = ctrl_c_on_call(monkeypatch, BandAssignmentLP, "solve", 2)
    problem = _problem()
    plan = _solve_keeping(problem)
    assert len(calls) == 2
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []


def _sizes_only():
    problem = sample_problem(400, 20, 5.0, with_adjacency=False)
    assert not problem.rules.balance
    return problem


def test_ctrl_c_in_the_flow_start_keeps_its_last_round(monkeypatch):
    """Sizes only: Ctrl-C in the alternation's second round hands over the first round's plan."""
    from optimizer import flow_assign

    calls = ctrl_c_on_call(monkeypatch, flow_assign, "assign_to_centres", 2)
    problem = _sizes_only()
    plan = _solve_keeping(problem)
    assert len(calls) == 2
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert plan.details["phase_wall_s"].startswith("interrupted=")


def test_ctrl_c_in_a_regional_restart_keeps_the_whole_tables_plan(monkeypatch):
    """A regional restart's alternation is cut: its (regional) labels are not a plan — the
    local search's plan before it is kept."""
    from optimizer import flow_assign, lns_phases

    real = lns_phases.regional_restarts

    def cut_inside(*args, **kwargs):
        ctrl_c_on_call(monkeypatch, flow_assign, "flow_kmeans", 2)
        return real(*args, **kwargs)

    monkeypatch.setattr(lns_phases, "regional_restarts", cut_inside)
    problem = _sizes_only()
    plan = _solve_keeping(problem)
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
    assert "local_search=" in plan.details["phase_wall_s"]


def test_an_interrupted_plan_with_a_loose_bound_says_why_not_to_raise_the_limit(monkeypatch):
    """After Ctrl-C the note says the bound was cut short, not "raise --time-limit"."""
    from features.i18n import tr

    monkeypatch.setattr(lns, "band_regions", _ctrl_c)
    monkeypatch.setattr(lns, "lagrangian_bound", _ctrl_c)  # bound 0: the largest gap
    plan = _solve_keeping(_problem())
    assert plan.interrupted is True and plan.gap == 1.0
    assert tr("solve.bound_interrupted") in plan.notes
    assert not any(n.startswith(tr("solve.bound_still_rising")) for n in plan.notes)


def _solve_cut_at(monkeypatch, problem, module, name: str, call: int):
    """solve() with Ctrl-C at ``module.<name>``'s ``call``-th call; the plan and the calls made.

    The safety stop is moved out of the way (``roomy_deadline``): the phases and the
    bound then end on their work allowances, so the call comes at the same point of
    the solve however busy the machine is (under ``-n 2`` the clock cut the regional
    restarts before their 250th try).
    """
    real = getattr(module, name)
    calls = ctrl_c_on_call(monkeypatch, module, name, call)
    try:
        return _solve_keeping(problem), calls
    finally:
        monkeypatch.setattr(module, name, real)


def test_ctrl_c_in_the_regional_restarts_keeps_their_gains_so_far(monkeypatch):
    """Cut late in the band phase's regional restarts, the plan holds the gains they had
    kept (the plan before the phase was all that survived before: 3 300 units F, Ctrl-C
    38 s into 60, 2 835.1 instead of the 2 821.3 reached by then)."""
    from optimizer import band_regions

    roomy_deadline(monkeypatch)
    problem = _problem()
    before_phase, _ = _solve_cut_at(monkeypatch, problem, band_regions, "lp_rounds", 1)
    late, calls = _solve_cut_at(monkeypatch, problem, band_regions, "lp_rounds", 200)
    assert len(calls) == 200
    for plan in (before_phase, late):
        assert plan.interrupted is True
        assert check_plan(plan, problem) == []
        assert "local_search=" in plan.details["phase_wall_s"]
    assert late.objective < before_phase.objective


def test_ctrl_c_inside_the_bounds_keeps_the_best_value_proven(monkeypatch):
    """Cut half-way through the Lagrangian (sizes only) or the population column's bound
    (F): the plan keeps the best value seen, not 0 (3 300 units F, Ctrl-C in the column
    bound: gap 1.0 before)."""
    from optimizer import bound, column_bound

    roomy_deadline(monkeypatch)
    for problem, module, name, call in (
        (_sizes_only(), bound, "members_of", 12),
        (sample_problem(400, 20, 2.0, with_adjacency=False, balance={"population": 0.10}),
         column_bound, "_cheapest", 75),
    ):
        first, _ = _solve_cut_at(monkeypatch, problem, module, name, 1)
        later, calls = _solve_cut_at(monkeypatch, problem, module, name, call)
        assert len(calls) == call
        for plan in (first, later):
            assert plan.interrupted is True and plan.details["bound_interrupted"] is True
            assert check_plan(plan, problem) == []
            assert 0.0 <= plan.bound <= plan.objective
        assert later.bound > first.bound
