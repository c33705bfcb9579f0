"""optimizer.decompose: groups of whole clusters that fit, each solved to meet every band."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ctrl_c_on_call, sample_problem

from optimizer import construct, decompose
from optimizer.check import check_plan, partition_passes
from optimizer.data import prepare
from optimizer.decompose import (
    _even_out,
    decompose_balanced,
    regroup,
    solve_group,
    split_groups,
)
from optimizer.interrupts import StartInterrupted
from optimizer.local_search import sse
from optimizer.repair import balance_arrays
from optimizer.solve import _medoids_of, solve


def test_split_groups_cuts_a_line_into_pairs():
    """Eight units on a line, four clusters of two, one group per cluster: neighbours pair up."""
    X = np.arange(8, dtype=float)[:, None]
    V = np.ones((8, 1))
    groups = split_groups(X, V, np.array([1.8]), np.array([2.2]), 4, 2, 2, leaf=1)
    assert groups is not None
    assert sorted(sorted(idx.tolist()) for idx, _ in groups) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert all(g == 1 for _, g in groups)


def test_split_groups_keeps_counts_within_whole_clusters():
    """Ten units, three clusters of 3–4: every group's count fits its cluster count."""
    X = np.column_stack([np.arange(10.0), np.arange(10.0) % 3])
    V = np.ones((10, 1))
    groups = split_groups(X, V, np.array([2.5]), np.array([4.5]), 3, 3, 4, leaf=1)
    assert groups is not None
    assert sorted(np.concatenate([idx for idx, _ in groups]).tolist()) == list(range(10))
    assert all(3 * g <= len(idx) <= 4 * g for idx, g in groups)


def test_split_groups_returns_none_when_sizes_cannot_fit():
    """Seven units cannot form two clusters of exactly three."""
    X = np.arange(7, dtype=float)[:, None]
    assert split_groups(X, np.ones((7, 1)), np.array([2.0]), np.array([4.0]), 2, 3, 3, leaf=1) is None


def test_split_groups_returns_none_when_one_unit_exceeds_the_band():
    """A unit of 10 against a band of 5.85–7.15 per cluster: no group of one cluster can hold it."""
    X = np.arange(4, dtype=float)[:, None]
    V = np.array([[10.0], [1.0], [1.0], [1.0]])
    assert split_groups(X, V, np.array([5.85]), np.array([7.15]), 2, 2, 2, leaf=1) is None


def test_even_out_swaps_the_big_unit_across_the_cut():
    """Left holds 4+4+1+1 of 14: one swap of a 4 for a 1 leaves both sides at 7."""
    weight = np.array([4.0, 4, 1, 1, 1, 1, 1, 1])
    left, right = _even_out(np.arange(4), np.arange(4, 8), weight, 0.5, 1.0)
    assert weight[left].sum() == 7.0 and weight[right].sum() == 7.0
    assert sorted(left.tolist() + right.tolist()) == list(range(8))


def test_solve_group_moves_one_big_unit_to_meet_the_band():
    """Two places of three units, totals 7 and 3 against a band of 4.5–5.5: each cluster gets one 3."""
    X = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])
    V = np.array([[3.0], [3.0], [1.0], [1.0], [1.0], [1.0]])
    lab, left = solve_group(X, V, np.array([4.5]), np.array([5.5]), np.array([5.0]), 2, 3, 3,
                            lp_work=1e9, repair_work=1e9)
    assert left == 0.0
    totals = np.bincount(lab, V[:, 0], minlength=2)
    assert np.all((totals >= 4.5) & (totals <= 5.5))
    assert np.bincount(lab, minlength=2).tolist() == [3, 3]


_LINE = np.array([[0.0], [0.1], [5.0], [5.1], [10.0], [10.1], [15.0], [15.1]])


def test_regroup_pairs_up_neighbours_across_a_bad_grouping():
    """Pairs {0,2},{1,3},{4,6},{5,7} on a line: regrouping lowers the sum of squares, sizes stay 2."""
    start = np.array([0, 1, 0, 1, 2, 3, 2, 3])
    lab, gains = regroup(_LINE, np.ones((8, 1)), np.array([1.8]), np.array([2.2]), np.ones(1),
                         start, 4, 2, 2, lp_work=1e12)
    assert gains >= 1
    assert sse(_LINE, lab, 4) < sse(_LINE, start, 4)
    assert np.bincount(lab, minlength=4).tolist() == [2, 2, 2, 2]


def test_regroup_keeps_an_optimal_grouping():
    """Neighbours already paired: nothing to gain, the labels come back unchanged."""
    start = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    lab, gains = regroup(_LINE, np.ones((8, 1)), np.array([1.8]), np.array([2.2]), np.ones(1),
                         start, 4, 2, 2, lp_work=1e12)
    assert gains == 0
    assert lab.tolist() == start.tolist()


def test_decomposition_is_deterministic(monkeypatch):
    """600 units, 6 clusters in groups of 2, regrouped in pairs: two runs give the same labels."""
    monkeypatch.setattr(decompose, "LEAF_CLUSTERS", 2)
    monkeypatch.setattr(decompose, "REGROUP_CLUSTERS", 2)
    problem = sample_problem(600, 6, 10.0, with_adjacency=False, balance={"population": 0.10})
    data = prepare(problem)
    first = decompose_balanced(problem, data, 6, max_work=2e8, seconds=60.0)
    second = decompose_balanced(problem, data, 6, max_work=2e8, seconds=60.0)
    assert first is not None and first[1] == 0.0
    assert first == second


def test_decomposition_past_the_count_deadline_gives_up_between_groups(monkeypatch):
    """Past its own safety stop the decomposition still solved every group (each needs an LP
    round to fit): 219 groups of 50 000 units ran 6 s past a 10-s limit. Past the count's
    deadline as well it now gives up (None), marking the clock; with time left it solves
    them all as before."""
    import time

    from optimizer.budget import Clock

    monkeypatch.setattr(decompose, "LEAF_CLUSTERS", 2)
    monkeypatch.setattr(decompose, "REGROUP_CLUSTERS", 2)
    problem = sample_problem(600, 6, 10.0, with_adjacency=False, balance={"population": 0.10})
    data = prepare(problem)
    spent = Clock(time.monotonic() - 1.0)
    assert decompose_balanced(problem, data, 6, max_work=2e8, seconds=0.0, clock=spent) is None
    assert spent.stopped
    # past the safety stop only (the count's deadline ahead): every group still solved
    ahead = Clock(time.monotonic() + 60.0)
    out = decompose_balanced(problem, data, 6, max_work=2e8, seconds=0.0, clock=ahead)
    assert out is not None and min(out[0]) >= 0


@pytest.mark.slow
def test_decomposition_meets_sizes_and_balance_on_2000_units(monkeypatch):
    """2 000 units, 20 clusters of 99–101, population ±10 %, groups of 5: the split plan passes check_plan."""
    monkeypatch.setattr(decompose, "LEAF_CLUSTERS", 5)
    problem = sample_problem(2000, 20, 8.0, with_adjacency=False, balance={"population": 0.10})
    data = prepare(problem)
    out = decompose_balanced(problem, data, 20, max_work=1e9, seconds=60.0)
    assert out is not None
    labels, violation = out
    assert violation == 0.0
    medoids = _medoids_of(problem, labels)
    assert partition_passes(problem, data, [medoids[i] for i in range(data.n)])
    V, lo, hi, _ = balance_arrays(data, 20, data.n)
    totals = np.bincount(np.asarray(labels), V[:, 0], minlength=20)
    assert np.all((totals >= lo[0]) & (totals <= hi[0]))


@pytest.mark.slow
def test_solve_takes_the_decomposition_path_and_returns_a_checked_plan(monkeypatch):
    """With the split threshold lowered to 2 000 units, solve() still returns a plan passing check_plan."""
    monkeypatch.setattr(construct, "DECOMPOSE_MIN_UNITS", 2000)
    monkeypatch.setattr(construct, "LP_MAX_PAIRS", 1000)
    calls = []
    real = construct.decompose_balanced
    monkeypatch.setattr(construct, "decompose_balanced",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    problem = sample_problem(2000, 20, 8.0, with_adjacency=False, balance={"population": 0.10})
    plan = solve(problem)
    assert calls
    assert check_plan(plan, problem) == []


def _interrupted_start(problem, data) -> StartInterrupted:
    """The StartInterrupted decompose_balanced raises (a bare Ctrl-C fails the test, not the run)."""
    try:
        decompose_balanced(problem, data, 6, max_work=2e8, seconds=60.0)
    except StartInterrupted as caught:
        return caught
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the decomposed start without its plan")
    pytest.fail("the injected Ctrl-C never reached the start")


def _six_clusters(monkeypatch):
    monkeypatch.setattr(decompose, "LEAF_CLUSTERS", 2)
    monkeypatch.setattr(decompose, "REGROUP_CLUSTERS", 2)
    problem = sample_problem(600, 6, 10.0, with_adjacency=False, balance={"population": 0.10})
    return problem, prepare(problem)


def test_ctrl_c_in_a_group_finishes_the_rest_in_haste_and_hands_over_the_plan(monkeypatch):
    """Ctrl-C in the second group: it and every later group get their first LP round only,
    no regroup, and StartInterrupted carries a plan placing every unit within the bands."""
    problem, data = _six_clusters(monkeypatch)
    calls = ctrl_c_on_call(monkeypatch, decompose, "solve_group", 2)
    caught = _interrupted_start(problem, data)
    works = [kw["lp_work"] for kw in calls]
    # four groups here: 1, 2 (interrupted), 2 again and the rest in haste (no LP work
    # past the first round)
    assert len(works) == 5 and works[0] == works[1] > 0
    assert works[2:] == [0.0, 0.0, 0.0]
    labels = caught.labels
    assert caught.violation == 0.0 and labels.min() >= 0
    medoids = _medoids_of(problem, labels.tolist())
    assert partition_passes(problem, data, [medoids[i] for i in range(data.n)])


def test_ctrl_c_in_the_regroup_hands_over_the_plan_in_hand(monkeypatch):
    """Ctrl-C in the regroup's LP rounds: the groups' plan (or a better one) is handed over."""
    problem, data = _six_clusters(monkeypatch)
    ctrl_c_on_call(monkeypatch, decompose, "_lp_rounds", 3)  # 2 groups' rounds, then the regroup's
    labels = _interrupted_start(problem, data).labels
    medoids = _medoids_of(problem, labels.tolist())
    assert partition_passes(problem, data, [medoids[i] for i in range(data.n)])


@pytest.mark.slow
def test_ctrl_c_in_the_decomposed_start_still_gives_a_plan(monkeypatch):
    """solve(): Ctrl-C in the decomposed start returns its hasty plan, interrupted and verified
    (20 000 units, 300 s: the first plan comes after ~80 s, and Ctrl-C before it lost all)."""
    monkeypatch.setattr(construct, "DECOMPOSE_MIN_UNITS", 2000)
    monkeypatch.setattr(construct, "LP_MAX_PAIRS", 1000)
    monkeypatch.setattr(decompose, "LEAF_CLUSTERS", 5)
    ctrl_c_on_call(monkeypatch, decompose, "solve_group", 2)
    problem = sample_problem(2000, 20, 8.0, with_adjacency=False, balance={"population": 0.10})
    try:
        plan = solve(problem)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C in the decomposed start lost the plan")
    assert plan.interrupted is True
    assert check_plan(plan, problem) == []
