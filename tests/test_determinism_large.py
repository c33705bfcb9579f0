"""Large tables (> FULL_MODEL_MAX_UNITS): same input, scenario and seed give the same plan."""

from __future__ import annotations

import time

import pytest
from helpers import make_problem, make_profiles, roomy_deadline, sample_problem

from features.sample import generate_units
from optimizer import construct, lns, lns_phases
from optimizer.budget import Clock, bound_seconds, work
from optimizer.check import check_plan
from optimizer.data import prepare
from optimizer.local_search import improve
from optimizer.solve import FULL_MODEL_MAX_UNITS, solve


@pytest.mark.slow
def test_two_large_solves_with_one_worker_give_the_same_plan(monkeypatch):
    """400 units, sizes ±1 and population ±10 %, 5 s, one worker: both runs give one assignment.

    The phases end on their work allowances, derived from the nominal 5 s
    (4.5 s of wall time on a quiet machine; 86 regional restarts, 27 bound
    iterations). The wall-clock deadline is
    only a safety stop, and a run it cuts proves nothing about repeatability:
    under ``pytest -n 2`` the other worker's solves slowed the band restarts
    past it in two of four clean-clone runs. So the safety stop gets 60 s more
    here, the nominal time staying 5 s; the other tests hold the limit itself.
    """
    roomy_deadline(monkeypatch)
    problem = sample_problem(400, 20, 5.0, with_adjacency=False, balance={"population": 0.10})
    assert problem.profiles.n_units > FULL_MODEL_MAX_UNITS
    assert problem.settings.num_workers == 1
    first = solve(problem)
    second = solve(problem)
    assert first.details["clock_stopped"] is False and second.details["clock_stopped"] is False
    assert dict(first.assignment.labels) == dict(second.assignment.labels)
    assert first.objective == second.objective
    assert first.details["ls_passes"] == second.details["ls_passes"] > 0
    assert first.details["bound_iterations"] == second.details["bound_iterations"] > 0
    # each phase's nominal charge is a count too, and the phases' charges add up to the total
    assert first.details["phase_charged_s"] == second.details["phase_charged_s"]
    charged = [float(part.split("=")[1]) for part in first.details["phase_charged_s"].split()]
    assert sum(charged) == pytest.approx(first.details["nominal_charged_s"], abs=0.01 * len(charged))
    assert first.notes == ()
    assert check_plan(first, problem) == []


@pytest.mark.slow
def test_clock_stop_is_recorded_and_the_limit_still_holds(monkeypatch):
    """Allowances far beyond the time limit: the wall clock stops them, the plan says so, on time."""
    # 1 500 units: the LP start alone needs several seconds, whatever the machine's speed;
    # 2 s, not 1: with the other core busy a 1-s limit sometimes ended before any verified
    # plan (1 in 6 runs beside two CPU burners, at this and the previous session's code)
    problem = sample_problem(1500, 30, 2.0, with_adjacency=False, balance={"population": 0.10})
    for module in (lns, lns_phases, construct):
        for name in ("DTIME_PER_S", "LS_WORK_PER_S", "REPAIR_WORK_PER_S", "LP_WORK_PER_S",
                     "ANNEAL_WORK_PER_S", "BAND_REGION_WORK_PER_S"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, getattr(module, name) * 1000)
    started = time.monotonic()
    plan = solve(problem)
    assert time.monotonic() - started < 2.0 + 3.0
    assert plan.details["clock_stopped"] is True
    assert "hạt giống" in plan.notes[0]
    assert plan.notes[0].endswith(" Với 1500 đơn vị, nên dùng --time-limit 30.")  # not "raise it"
    # the bound had no time either: a large gap may add that note, nothing else
    assert all("Cận dưới" in note for note in plan.notes[1:])
    assert check_plan(plan, problem) == []


def test_local_search_work_allowance_stops_it_deterministically():
    """A small work allowance ends the search early, at the same plan every time, below the unlimited one's work."""
    # no sizes or bands: a round-robin start meets every rule the search keeps
    problem = _problem_no_balance(200, 10)
    data = prepare(problem)
    start = [i % 10 for i in range(200)]
    far = time.monotonic() + 1e6
    _, s_full = improve(problem, data, 10, start, deadline=far)
    a, s_a = improve(problem, data, 10, start, deadline=far, max_work=50_000)
    b, _ = improve(problem, data, 10, start, deadline=far, max_work=50_000)
    assert a == b
    assert s_a.work < s_full.work
    assert s_a.sse_after > s_full.sse_after
    assert s_a.sse_after <= s_a.sse_before


def _problem_no_balance(n_units: int, n_clusters: int):
    frame, _ = generate_units(n_units, seed=0)
    rows = [{"unit_id": r.unit_id, "lat": r.lat, "lon": r.lon, "population": float(r.population)}
            for _, r in frame.iterrows()]
    return make_problem(make_profiles(rows), n_clusters=n_clusters)


def test_clock_marks_only_when_expired():
    """A far deadline is not expired; a past one is, and stays recorded; work() is at least 1."""
    clock = Clock(time.monotonic() + 1e6)
    assert not clock.expired() and not clock.stopped
    past = Clock(time.monotonic() - 1.0)
    assert past.expired() and past.stopped and past.left() == 0.0
    assert work(0.0, 1e6) == 1 and work(2.0, 10.0) == 20


def test_bound_seconds_tops_up_the_share_from_spare_time() -> None:
    """The decomposed bound takes all the spare time; the Lagrangian only up to what it wants; none spare, none added."""
    assert bound_seconds(5.0, 4.0, None) == 9.0
    assert bound_seconds(5.0, 40.0, 18.0) == 18.0  # 10 000 units S: wants more than its share
    assert bound_seconds(5.0, 4.0, 18.0) == 9.0  # ... but gets only what the phases left
    assert bound_seconds(5.0, 40.0, 3.8) == 5.0  # 3 300 units S: the share already buys it
    assert bound_seconds(5.0, 0.0, None) == bound_seconds(5.0, 0.0, 18.0) == 5.0  # after Ctrl-C
