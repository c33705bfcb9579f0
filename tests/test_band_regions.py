"""optimizer.band_regions: regional restarts under bands keep every rule, never worsen, repeat."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import sample_problem

from optimizer.band_regions import band_region_restarts
from optimizer.budget import Clock
from optimizer.construct import balanced_start
from optimizer.data import prepare
from optimizer.local_search import improve, sse
from optimizer.repair import balance_arrays
from optimizer.search import _seed_labels
from optimizer.solve import solve


def _banded_start(n: int = 240, k: int = 12):
    problem = sample_problem(n, k, 10.0, with_adjacency=False, balance={"population": 0.10})
    data = prepare(problem)
    far = time.monotonic() + 1e6
    labels, violation = balanced_start(problem, data, k, _seed_labels(problem, k), far,
                                       seconds=5.0)
    assert violation == 0.0
    labels, _ = improve(problem, data, k, labels, deadline=far)
    return problem, data, np.asarray(labels)


def _holds(problem, data, labels, k: int) -> bool:
    """Sizes and the population band (the raw rule, without the search's margins)."""
    rules = problem.rules
    size = np.bincount(labels, minlength=k)
    lo, hi = data.balance[0].band(k)
    totals = np.bincount(labels, weights=data.balance[0].values, minlength=k)
    return bool((size >= rules.min_size).all() and (size <= rules.max_size).all()
                and (totals >= lo).all() and (totals <= hi).all())


def test_regional_restarts_keep_the_rules_lower_the_sum_and_repeat():
    problem, data, start = _banded_start()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    args = (X, V, lo, hi, mean, start, k, rules.min_size, rules.max_size)
    lab, stats = band_region_restarts(*args, seed=0, max_work=3e6)
    again, _ = band_region_restarts(*args, seed=0, max_work=3e6)
    assert lab.tolist() == again.tolist()
    assert stats.tries > 0
    assert _holds(problem, data, lab, k)
    assert sse(X, lab, k) <= sse(X, start, k)
    assert (stats.kept > 0) == (lab.tolist() != start.tolist())


def test_work_allowance_charges_the_clock_and_stops_early():
    problem, data, start = _banded_start()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    clock = Clock(time.monotonic() + 1e6)
    _, small = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                    rules.max_size, seed=1, max_work=1, clock=clock)
    assert small.tries == 1 and clock.charged_s > 0 and not clock.stopped


def test_a_past_deadline_stops_before_any_try_and_is_marked():
    problem, data, start = _banded_start()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    clock = Clock(time.monotonic() - 1.0)
    lab, stats = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                      rules.max_size, seed=0, deadline=time.monotonic() - 1.0,
                                      clock=clock)
    assert stats.tries == 0 and clock.stopped and lab.tolist() == start.tolist()


@pytest.mark.slow
def test_banded_large_solve_reports_its_regional_restarts(monkeypatch):
    """400 units, ±10 % population: the large path runs the regional restarts and every rule holds."""
    from optimizer import lns_phases
    from optimizer.check import check_plan

    # no whole-table restarts before them: on a loaded machine those can run
    # into the wall-clock safety stop, which then ends the solve first
    monkeypatch.setattr(lns_phases, "MAX_RESTARTS", 0)
    problem = sample_problem(400, 20, 10.0, with_adjacency=False, balance={"population": 0.10})
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    if plan.details["clock_stopped"]:
        pytest.skip("machine too loaded: the safety stop ended the solve before the phase")
    assert plan.details["restarts_tried"] == 0
    assert plan.details["region_tries"] > 0
