"""solve(): status mapping, determinism, progress, stop event, Ctrl-C, the real 34-province data."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest
from helpers import UNITS_OK_SMALL_PAIRS, make_problem, make_profiles, units_ok_small
from ortools.sat.python import cp_model

import optimizer.search as search_module
import optimizer.small_exact as small_exact
import optimizer.solve as solve_module
from optimizer.check import Violation, check_plan
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.plan import SolveStatus
from optimizer.solve import ProgressEvent, solve

VN34 = Path(__file__).resolve().parents[1] / "scenarios" / "bundled" / "vn34"
WEIGHTS = {"function": 1.0, "location": 1.0, "population": 1.0}


def _vn34_problem(time_limit_s: float = 30.0, **rules):
    """The 34 provinces: function = division type, region_6, location, population."""
    frame = pd.read_csv(VN34 / "units.csv", dtype={"unit_id": str}, encoding="utf-8-sig")
    rows = [
        {"unit_id": r.unit_id, "name": r["name"], "function": r.function,
         "region": r.region if isinstance(r.region, str) else None,
         "lat": r.lat, "lon": r.lon, "population": float(r.population)}
        for _, r in frame.iterrows()
    ]
    adj = pd.read_csv(VN34 / "adjacency.csv", dtype=str, encoding="utf-8-sig")
    pairs = list(zip(adj.a, adj.b))
    return make_problem(
        make_profiles(rows),
        weights={"function": 3.0, "region": 2.0, "location": 1.0, "population": 1.0},
        pairs=pairs, time_limit_s=time_limit_s, **rules,
    )


needs_vn34 = pytest.mark.skipif(not VN34.exists(), reason="shared vn34 data not present")


@needs_vn34
def test_vn34_six_clusters_balanced_is_proven_optimal():
    """34 provinces, 6 clusters, population ±15 %: OPTIMAL within seconds, plan verified."""
    problem = _vn34_problem(n_clusters=6, balance={"population": 0.15})
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.status is SolveStatus.OPTIMAL
    assert plan.gap == 0.0
    assert plan.solve_seconds < 20
    assert plan.details["bound_scope"] == "full"
    assert len(plan.cluster_labels) == 6


@needs_vn34
@pytest.mark.slow
def test_vn34_contiguous_is_proven_optimal():
    """Adding contiguity (lazy separator cuts) still proves the optimum on the real map."""
    problem = _vn34_problem(n_clusters=6, balance={"population": 0.15}, contiguous=True)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.status is SolveStatus.OPTIMAL
    free = solve(_vn34_problem(n_clusters=6, balance={"population": 0.15}))
    assert plan.objective >= free.objective - 1e-9


def test_same_seed_gives_the_same_plan():
    """num_workers=1 and a fixed seed: two solves return identical assignments and labels."""
    rows = [
        {"unit_id": f"u{i}", "lat": float(i % 4), "lon": float(i // 4), "pop": float(10 + (7 * i) % 13)}
        for i in range(16)
    ]
    problem = make_problem(make_profiles(rows), weights={"location": 1.0, "pop": 1.0},
                           n_clusters=4, balance={"pop": 0.3}, seed=3)
    a, b = solve(problem), solve(problem)
    assert a.assignment == b.assignment
    assert a.cluster_labels == b.cluster_labels
    assert a.objective == b.objective


def test_progress_reports_improving_objectives():
    """Progress events carry non-increasing objectives, bounds below them, growing times."""
    events: list[ProgressEvent] = []
    problem = make_problem(units_ok_small(), weights=WEIGHTS, pairs=UNITS_OK_SMALL_PAIRS, n_clusters=2)
    plan = solve(problem, progress=events.append)
    assert events
    objectives = [e.objective for e in events]
    assert objectives == sorted(objectives, reverse=True)
    assert all(e.bound <= e.objective + 1e-9 for e in events)
    assert events[-1].objective >= plan.objective - 1e-9


def test_stop_event_returns_an_interrupted_verified_plan():
    """Setting stop at the first plan ends the search; the plan is verified and interrupted."""
    stop = threading.Event()
    problem = _vn34_problem(min_count=5, max_count=8) if VN34.exists() else make_problem(
        units_ok_small(), weights=WEIGHTS, n_clusters=2)
    plan = solve(problem, progress=lambda e: stop.set(), stop=stop)
    assert plan.interrupted
    assert check_plan(plan, problem) == []


def test_stop_before_any_plan_is_no_solution():
    """A stop set before anything is found gives NoSolutionError, not a half plan."""
    stop = threading.Event()
    stop.set()
    problem = make_problem(units_ok_small(), weights=WEIGHTS, n_clusters=2)

    def never(*args, **kwargs):
        return cp_model.UNKNOWN, cp_model.CpSolver(), True

    orig = search_module._run_cpsat
    search_module._run_cpsat = never
    try:
        with pytest.raises(NoSolutionError):
            solve(problem, stop=stop)
    finally:
        search_module._run_cpsat = orig


@needs_vn34
def test_ctrl_c_returns_the_best_plan_so_far(ctrl_c_reaches_python):
    """SIGINT during a long solve: the solver stops, the best verified plan comes back interrupted."""
    problem = _vn34_problem(time_limit_s=60, min_count=5, max_count=12, contiguous=True,
                            balance={"population": 0.15})
    sent = threading.Event()

    def interrupt(event: ProgressEvent) -> None:
        # called from the solver thread while the calling thread waits in join()
        if not sent.is_set():
            sent.set()
            os.kill(os.getpid(), signal.SIGINT)

    plan = solve(problem, progress=interrupt)
    assert plan.interrupted
    assert plan.solve_seconds < 30
    assert check_plan(plan, problem) == []


def test_unknown_status_is_no_solution_with_advice(monkeypatch):
    """When CP-SAT finds nothing in time, NoSolutionError suggests a longer limit."""
    monkeypatch.setattr(
        search_module, "_run_cpsat", lambda *a, **k: (cp_model.UNKNOWN, cp_model.CpSolver(), False)
    )
    # nothing found at all: the heuristic incumbent (optimizer.small_exact) finds nothing either
    monkeypatch.setattr(small_exact, "heuristic_incumbent", lambda *a, **k: None)
    problem = make_problem(units_ok_small(), weights=WEIGHTS, n_clusters=2, time_limit_s=30)
    with pytest.raises(NoSolutionError, match="120"):
        solve(problem)


def test_a_raise_the_limit_note_names_the_limit_that_suits_the_table():
    """Below ``suggested_time_limit`` the note gives the number; at or above it, nothing is added."""
    from features.i18n import language

    problem = make_problem(units_ok_small(), weights=WEIGHTS, n_clusters=2, time_limit_s=30)
    with language("en"):
        assert solve_module._with_size_hint("Raise it.", problem, 2_000) == "Raise it."
        assert solve_module._with_size_hint("Raise it.", problem, 10_000) == (
            "Raise it. For 10000 units, --time-limit 120 is suggested.")


def test_solver_infeasibility_names_the_rules():
    """A combination only the solver can refute raises InfeasibleError listing the active rules."""
    problem = make_problem(units_ok_small(), weights=WEIGHTS, n_clusters=2,
                           balance={"population": 0.0}, together=(("C", "D", "F"),))
    with pytest.raises(InfeasibleError) as err:
        solve(problem)
    assert "balance" in err.value.rules and "together" in err.value.rules


def test_a_plan_failing_check_plan_is_never_returned(monkeypatch):
    """If the checker finds a violation, solve raises RuntimeError instead of returning it."""
    monkeypatch.setattr(solve_module, "check_plan", lambda plan, problem: [Violation("partition", "boom")])
    problem = make_problem(units_ok_small(), weights=WEIGHTS, n_clusters=2)
    with pytest.raises(RuntimeError, match="boom"):
        solve(problem)


def test_count_range_records_every_count_and_chooses_one():
    """With min_count..max_count every count's result is in details and one is chosen."""
    problem = make_problem(units_ok_small(), weights=WEIGHTS, min_count=2, max_count=3)
    plan = solve(problem)
    assert set(plan.details["counts"]) == {"2", "3"}
    assert plan.n_clusters in (2, 3)
    assert plan.details["count_choice"] == "calinski_harabasz"
    assert check_plan(plan, problem) == []
