"""optimizer.band_regions: regional restarts under bands keep every rule, never worsen, repeat."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from helpers import banded_plan, roomy_deadline, sample_problem, sizes_and_band_hold

from optimizer.band_regions import band_region_restarts
from optimizer.budget import BAND_REGION_WORK_PER_S, LP_WORK_PER_S, Clock
from optimizer.local_search import sse
from optimizer.repair import balance_arrays
from optimizer.solve import solve


def test_regional_restarts_keep_the_rules_lower_the_sum_and_repeat():
    problem, data, start = banded_plan()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    args = (X, V, lo, hi, mean, start, k, rules.min_size, rules.max_size)
    lab, stats = band_region_restarts(*args, seed=0, max_work=3e6)
    again, _ = band_region_restarts(*args, seed=0, max_work=3e6)
    assert lab.tolist() == again.tolist()
    assert stats.tries > 0
    assert sizes_and_band_hold(problem, data, lab, k)
    assert sse(X, lab, k) <= sse(X, start, k)
    assert (stats.kept > 0) == (lab.tolist() != start.tolist())


def test_work_allowance_charges_the_clock_and_stops_early():
    problem, data, start = banded_plan()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    clock = Clock(time.monotonic() + 1e6)
    _, small = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                    rules.max_size, seed=1, max_work=1, clock=clock)
    assert small.tries == 1 and clock.charged_s > 0 and not clock.stopped


def test_a_past_deadline_stops_before_any_try_and_is_marked():
    problem, data, start = banded_plan()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    clock = Clock(time.monotonic() - 1.0)
    lab, stats = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                      rules.max_size, seed=0, deadline=time.monotonic() - 1.0,
                                      clock=clock)
    assert stats.tries == 0 and clock.stopped and lab.tolist() == start.tolist()


@pytest.mark.slow
def test_banded_large_solve_runs_regional_restarts_then_annealing(monkeypatch):
    """400 units, ±10 % population: the large path runs both band phases and every rule holds.

    (The safety stop moved out of the way: under load it ended the solve before
    the phases, and the test skipped itself.)
    """
    from optimizer.check import check_plan

    roomy_deadline(monkeypatch)
    problem = sample_problem(400, 20, 10.0, with_adjacency=False, balance={"population": 0.10})
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert not plan.details["clock_stopped"]
    assert plan.details["region_tries"] > 0
    assert plan.details["anneal_rounds"] > 0 and plan.details["anneal_gain"] >= 0.0


@pytest.mark.slow
def test_without_enough_rounds_for_annealing_the_regional_restarts_take_its_time(monkeypatch):
    """The annealing's share would pay for too few rounds: it is skipped, the rules still hold."""
    from optimizer import lns
    from optimizer.check import check_plan

    monkeypatch.setattr(lns, "min_rounds", lambda n, k: 10**12)
    problem = sample_problem(400, 20, 10.0, with_adjacency=False, balance={"population": 0.10})
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert "anneal_rounds" not in plan.details
    if not plan.details["clock_stopped"]:
        assert plan.details["region_tries"] > 0


def test_affordable_rounds_follow_the_cluster_sizes():
    from optimizer.anneal import affordable_rounds

    # same work: clusters of 100 units cost ~100 × more per round than clusters of 10
    small, large = affordable_rounds(700, 70, 10**9), affordable_rounds(50_000, 500, 10**9)
    assert small > 20 * large > 0
    assert affordable_rounds(700, 50, 0) == 0


def test_small_clusters_need_proportionally_fewer_rounds():
    from optimizer.anneal import FULL_ROUNDS_SIZE, MIN_ROUNDS, min_rounds

    assert min_rounds(3300, 100) == MIN_ROUNDS == min_rounds(50_000, 500)  # 33 and 100 a cluster
    assert min_rounds(3300, 550) == math.ceil(MIN_ROUNDS * 6 / FULL_ROUNDS_SIZE)  # clusters of 6
    assert min_rounds(700, 50) < min_rounds(700, 20) == MIN_ROUNDS  # 14 and 35 a cluster


def test_a_try_is_charged_for_its_rounds_its_steps_and_the_whole_tables_draw(monkeypatch):
    """The charge follows the measured costs: the LP rounds what they cost (their LP work,
    converted), a repair step its rate, a try's draw the whole table (50 000 units ran at a
    third of the nominal rate without)."""
    from optimizer import band_regions as br

    problem, data, start = banded_plan()
    k, rules = 12, problem.rules
    X = np.asarray(problem.features.values)
    V, lo, hi, mean = balance_arrays(data, k, data.n)
    monkeypatch.setattr(br, "lp_rounds", lambda sub, *a: (a[-2], 7e5))  # 10 ms of LP work
    monkeypatch.setattr(br, "repair_arrays", lambda sub, *a, **kw: (a[-2], 0.0, 3))
    _, stats = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                    rules.max_size, seed=0, region=k, max_work=1)
    n = len(X)  # region = k: the try re-clusters every unit
    lp_work = 7e5 / LP_WORK_PER_S * BAND_REGION_WORK_PER_S
    assert stats.tries == 1
    assert stats.work == pytest.approx(lp_work + 3 * br.STEP_WORK + br.DRAW_WORK + n)
    # a try skipped for its frozen units was drawn too: the draw is charged all the same
    _, skipped = band_region_restarts(X, V, lo, hi, mean, start, k, rules.min_size,
                                      rules.max_size, seed=0, region=k, max_work=1,
                                      frozen=np.ones(n, dtype=bool))
    assert skipped.tries == 1 and skipped.kept == 0
    assert skipped.work == n * k + br.DRAW_WORK + n
