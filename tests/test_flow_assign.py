"""Size-constrained assignment by min-cost flow, its alternation and regional restarts."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from helpers import sample_problem

from optimizer.check import check_plan
from optimizer.data import prepare
from optimizer.flow_assign import (
    FLOW_COST_SCALE,
    _sq_dist,
    assign,
    best_of_starts,
    flow_allowed,
    flow_kmeans,
    regional_restarts,
    sizes_ok,
)
from optimizer.local_search import sse
from optimizer.solve import solve


def _cost(d: np.ndarray, labels) -> int:
    return int(np.rint(d[np.arange(len(labels)), labels] * FLOW_COST_SCALE).sum())


def _brute_force(d: np.ndarray, lo: int, hi: int) -> int:
    n, k = d.shape
    best = None
    for labels in itertools.product(range(k), repeat=n):
        size = np.bincount(labels, minlength=k)
        if size.min() >= lo and size.max() <= hi:
            c = _cost(d, list(labels))
            best = c if best is None else min(best, c)
    return best


def test_dense_assignment_equals_brute_force_on_seven_units():
    """7 random units, 3 centres, sizes 2–3: the flow's cost is the brute-force minimum."""
    rng = np.random.default_rng(3)
    X, C = rng.normal(size=(7, 2)), rng.normal(size=(3, 2))
    d = _sq_dist(X, C)
    labels, _, widened = assign(d, 2, 3, nearest=3)
    assert sizes_ok(labels, 3, 2, 3) and widened == 0
    assert _cost(d, labels) == _brute_force(d, 2, 3)


def test_sparse_assignment_with_a_feasible_keep_needs_no_widening_and_is_no_worse():
    """8 units, 4 centres, one nearest arc plus a round-robin plan's arcs: feasible, cost ≤ that plan's."""
    rng = np.random.default_rng(5)
    X, C = rng.normal(size=(8, 2)), rng.normal(size=(4, 2))
    d = _sq_dist(X, C)
    keep = np.arange(8) % 4
    labels, _, widened = assign(d, 2, 2, nearest=1, keep=keep)
    assert widened == 0 and sizes_ok(labels, 4, 2, 2)
    assert _cost(d, labels) <= _cost(d, keep)
    assert _cost(d, labels) >= _brute_force(d, 2, 2)


def test_infeasible_arc_set_is_widened_to_the_hand_checked_optimum():
    """Units at 0..5, centres at 0, 100, 200, sizes exactly 2: nearest-only arcs fail twice, then 0,0,1,1,2,2."""
    X = np.arange(6, dtype=float)[:, None]
    C = np.array([[0.0], [100.0], [200.0]])
    labels, _, widened = assign(_sq_dist(X, C), 2, 2, nearest=1)
    assert widened == 2
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_impossible_counts_give_none():
    """5 units cannot fill 3 clusters of at least 2, nor 2 clusters of at most 2."""
    d = _sq_dist(np.arange(5, dtype=float)[:, None], np.array([[0.0], [1.0], [2.0]]))
    assert assign(d, 2, 3)[0] is None
    assert assign(d[:, :2], 1, 2)[0] is None


def test_alternation_moves_the_unit_nearest_the_short_cluster():
    """Five units near 0 and three near 10, sizes exactly 4: the unit at 2 joins the far group."""
    X = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 10.0, 10.5, 11.0])[:, None]
    start = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    result = flow_kmeans(X, start, 2, 4, 4)
    assert result is not None and result.converged
    assert result.labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_alternation_is_deterministic_and_never_worse_than_a_feasible_start():
    """300 random units, 10 clusters, sizes 29–31 from round-robin: same labels twice, lower sum of squares."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    start = np.arange(300) % 10
    a = flow_kmeans(X, start, 10, 29, 31)
    b = flow_kmeans(X, start, 10, 29, 31)
    assert a.labels.tolist() == b.labels.tolist() and a.rounds == b.rounds
    assert sizes_ok(a.labels, 10, 29, 31)
    assert sse(X, a.labels, 10) < sse(X, start, 10)


def test_a_tiny_work_allowance_stops_after_one_round():
    """max_work 1: one round runs (a plan is needed), then the allowance ends the alternation."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    result = flow_kmeans(X, np.arange(200) % 8, 8, 24, 26, max_work=1)
    assert result.rounds == 1 and not result.converged and sizes_ok(result.labels, 8, 24, 26)


def test_restarts_and_regional_restarts_never_worsen_and_repeat():
    """400 random units, 20 clusters, sizes 19–21: best-of-starts ≤ one start; regions lower it further, deterministically."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4))
    start = np.arange(400) % 20
    one = flow_kmeans(X, start, 20, 19, 21)
    best = best_of_starts(X, start, 20, 19, 21, seed=0, restarts=2)
    assert sse(X, best.labels, 20) <= sse(X, one.labels, 20)
    lab, stats = regional_restarts(X, best.labels, 20, 19, 21, seed=0, region=4, max_stall=10)
    again, _ = regional_restarts(X, best.labels, 20, 19, 21, seed=0, region=4, max_stall=10)
    assert lab.tolist() == again.tolist() and stats.tries >= 10
    assert sizes_ok(lab, 20, 19, 21)
    assert sse(X, lab, 20) <= sse(X, best.labels, 20)


def test_flow_applies_to_sizes_only():
    """Sizes only: allowed, also with a fixed unit (placed after the flow); with a population
    band, contiguity or max_moves: not (the repair path runs)."""
    plain = sample_problem(40, 4, 5.0, with_adjacency=False)
    assert flow_allowed(plain, prepare(plain))
    fixed = sample_problem(40, 4, 5.0, with_adjacency=False, fixed={"00001": "Cụm A"})
    assert flow_allowed(fixed, prepare(fixed))
    for rules in ({"balance": {"population": 0.1}}, {"max_moves": 5}):
        other = sample_problem(40, 4, 5.0, with_adjacency=False, **rules)
        assert not flow_allowed(other, prepare(other)), rules
    contiguous = sample_problem(40, 4, 5.0, contiguous=True)
    assert not flow_allowed(contiguous, prepare(contiguous))


@pytest.mark.slow
def test_sizes_only_large_table_takes_the_flow_path_and_stops_early():
    """400 units, 20 clusters, sizes ±1, 30 s: verified plan, regional restarts ran, no CP-SAT LNS, well before the limit."""
    problem = sample_problem(400, 20, 30.0, with_adjacency=False)
    started = time.monotonic()
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.details["region_tries"] > 0 and "lns_rounds" not in plan.details
    assert plan.details["nominal_charged_s"] < 0.5 * plan.details["nominal_s"]
    assert time.monotonic() - started < 30.0


@pytest.mark.slow
def test_sizes_only_large_table_gives_the_same_plan_twice():
    """300 units, 15 clusters, sizes ±1, 10 s, one worker: two solves give one assignment, unstopped by the clock."""
    problem = sample_problem(300, 15, 10.0, with_adjacency=False)
    assert problem.settings.num_workers == 1
    first, second = solve(problem), solve(problem)
    assert first.details["clock_stopped"] is False and second.details["clock_stopped"] is False
    assert dict(first.assignment.labels) == dict(second.assignment.labels)
    assert first.details["region_tries"] == second.details["region_tries"] > 0


def test_tree_arcs_give_the_plan_of_the_whole_matrix(monkeypatch):
    """Above DENSE_DISTANCES_MAX the nearest centres come from a tree (50 000 units in 25 000
    pairs held a 10 GB matrix): on 600 units, 40 clusters of 14-16, the same plan either way."""
    import optimizer.flow_assign as flow

    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 3))
    start = np.arange(600) % 40
    whole = flow.flow_kmeans(X, start, 40, 14, 16)
    monkeypatch.setattr(flow, "DENSE_DISTANCES_MAX", 0)
    tree = flow.flow_kmeans(X, start, 40, 14, 16)
    assert whole is not None and tree is not None
    assert (tree.labels == whole.labels).all() and tree.rounds == whole.rounds


def test_tree_arcs_stop_widening_at_their_cap(monkeypatch):
    """No plan within the widest tree arcs: None (the repair path runs), never a dense matrix."""
    import optimizer.flow_assign as flow

    monkeypatch.setattr(flow, "DENSE_DISTANCES_MAX", 0)
    monkeypatch.setattr(flow, "SPARSE_MAX_NEAREST", 1)
    # 6 units on a line, centres at both ends: each unit's nearest centre alone cannot give 3 + 3
    X = np.array([[0.0], [0.1], [0.2], [0.3], [0.4], [10.0]])
    labels, _, widened = flow.assign_to_centres(X, np.array([[0.0], [10.0]]), 3, 3, nearest=1)
    assert labels is None and widened == 0


def test_regional_restarts_leave_frozen_units_where_they_are():
    """Regions holding a frozen (together / apart / fixed) unit are skipped, the rest still
    improve; with nothing frozen the restarts are those without a mask."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4))
    start = best_of_starts(X, np.arange(400) % 20, 20, 19, 21, seed=0, restarts=0).labels
    frozen = np.zeros(400, dtype=bool)
    plain, _ = regional_restarts(X, start, 20, 19, 21, seed=0, region=4, max_stall=40)
    unmasked, _ = regional_restarts(X, start, 20, 19, 21, seed=0, region=4, max_stall=40,
                                    frozen=frozen)
    assert unmasked.tolist() == plain.tolist()
    frozen[np.flatnonzero(start == 3)[:2]] = True  # two units of cluster 3
    lab, stats = regional_restarts(X, start, 20, 19, 21, seed=0, region=4, max_stall=40,
                                   frozen=frozen)
    assert stats.kept > 0 and sse(X, lab, 20) < sse(X, start, 20)
    assert (lab[frozen] == 3).all()
    assert sizes_ok(lab, 20, 19, 21)


def test_locked_units_no_longer_switch_the_regional_phases_off():
    """A together pair on a sizes-only and on a banded large table: the regional phases
    run (they were skipped: 10 000 units, one together group, 558.0 against 517.3)."""
    for rules in ({}, {"balance": {"population": 0.10}}):
        free = sample_problem(400, 20, 4.0, with_adjacency=False, **rules)
        pair = (free.unit_ids[0], free.unit_ids[1])
        tied = sample_problem(400, 20, 4.0, with_adjacency=False, together=(pair,), **rules)
        plan = solve(tied)
        assert check_plan(plan, tied) == []
        assert plan.details["region_tries"] > 0, rules
