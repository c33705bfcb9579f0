"""optimizer.contiguous_repair: moves that keep clusters connected, fix sizes/bands, then lower SSE."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from helpers import make_problem, make_profiles, sample_problem

from features.types import FeatureMatrix
from optimizer.check import check_plan
from optimizer.contiguous_graph import (
    ENUMERATION_WORK,
    _enumerate_connected,
    articulation_points,
    connected_sets,
    lightest_connected_total,
)
from optimizer.contiguous_repair import repair_contiguous
from optimizer.data import prepare
from optimizer.local_search import sse
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.search import _medoids_of
from optimizer.solve import _seed_labels, solve

PATH6 = [(f"u{i}", f"u{i + 1}") for i in range(5)]


def _path_problem(xs, pops, regions=None, **rules):
    """Six units on a path u0-u1-…-u5; feature = x exactly, population = ``pops``."""
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(pops)]
    for row, region in zip(rows, regions or []):
        row["region"] = region
    problem = make_problem(make_profiles(rows), pairs=PATH6, n_clusters=2, contiguous=True, **rules)
    fm = FeatureMatrix(values=np.asarray(xs, dtype=np.float64).reshape(-1, 1),
                       unit_ids=problem.features.unit_ids, feature_names=("x",))
    return dataclasses.replace(problem, features=fm)


def _plan(problem, labels) -> Plan:
    ids = problem.unit_ids
    return Plan(assignment=Assignment({ids[i]: int(c) for i, c in enumerate(labels)}),
                cluster_labels=tuple(f"C{c}" for c in range(max(labels) + 1)),
                status=SolveStatus.FEASIBLE, objective=0.0, bound=0.0, solve_seconds=0.0, seed=0)


def test_articulation_points_of_a_path_are_its_inner_units():
    """Path 0-1-2-3: removing 1 or 2 splits it, removing an end does not."""
    neighbors = [(1,), (0, 2), (1, 3), (2,)]
    assert articulation_points({0, 1, 2, 3}, neighbors) == {1, 2}
    assert articulation_points({0, 1}, neighbors) == set()


def test_connected_sets_lists_each_connected_set_once():
    """On a 3×4 grid every connected set holding unit 0 (sizes 1–6) appears exactly once."""
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 4))
    neighbors = [sorted(grid[v]) for v in range(12)]
    got = connected_sets(0, set(range(12)), neighbors, 1, 6, 10**6)
    want = [list(c) for r in range(1, 7) for c in itertools.combinations(range(12), r)
            if 0 in c and nx.is_connected(grid.subgraph(c))]
    assert len(got) == len({tuple(s) for s in got})
    assert sorted(map(tuple, got)) == sorted(map(tuple, want))


def test_lightest_connected_total_on_a_path():
    """Path 0-1-2-3-4 with values 1,9,5,9,1: a connected 3-set holding unit 2 is {0,1,2} or
    {2,3,4} (15) at least; without enumeration the bound is 5 + the two lightest near it = 7."""
    neighbors = [(1,), (0, 2), (1, 3), (2, 4), (3,)]
    values = np.array([1.0, 9.0, 5.0, 9.0, 1.0])
    assert lightest_connected_total(2, neighbors, values, 3) == 15.0
    assert lightest_connected_total(2, neighbors, values, 3, cap=0) == 7.0
    assert lightest_connected_total(0, neighbors, values, 2) == 10.0
    assert lightest_connected_total(0, [()] * 5, values, 2) == float("inf")


def test_lightest_connected_total_on_a_large_grid_stays_a_valid_bound():
    """A 60×60 grid, sets of 40 around the centre: far too many to list, so the bound is the
    centre plus the 39 lightest units within 39 steps, and it is below the lightest set found.

    Before the fix the breadth-first reach kept every path to a unit (2^39 entries on a grid)
    and this never returned; the listing is also cut by its work allowance (incomplete)."""
    grid = nx.convert_node_labels_to_integers(nx.grid_2d_graph(60, 60))
    neighbors = [sorted(grid[v]) for v in range(3600)]
    values = np.random.default_rng(0).uniform(1.0, 10.0, 3600)
    centre = 30 * 60 + 30
    ball = [v for v, d in nx.single_source_shortest_path_length(grid, centre, cutoff=39).items()
            if v != centre]
    loose = values[centre] + np.sort(values[ball])[:39].sum()
    assert lightest_connected_total(centre, neighbors, values, 40) == pytest.approx(loose)
    sets, complete = _enumerate_connected(centre, set(range(3600)), neighbors, 40, 40, 10**6,
                                          max_work=ENUMERATION_WORK)
    assert not complete and sets
    assert loose <= min(values[s].sum() for s in sets)


def test_sample_300_heaviest_unit_needs_more_than_75_percent():
    """The 300-unit sample's heaviest unit: every connected 5-set around it exceeds 1.75× the mean."""
    _, data, _ = _sample(0.75)
    values = data.balance[0].values
    heavy = int(np.argmax(values))
    total = lightest_connected_total(heavy, data.neighbors, values, 5)
    assert total > 1.75 * values.sum() / 50 > values[heavy]


def test_move_that_would_disconnect_is_refused():
    """x = 0,0,9,0,9,9 on a path, sizes 2–4: {u0,u1,u3} would give SSE 0 but is not
    connected; the best connected plan has SSE 60.75 ({u0,u1} | {u2..u5}: 3·2.25² + 6.75²)."""
    problem = _path_problem([0, 0, 9, 0, 9, 9], [1] * 6, min_size=2, max_size=4)
    labels, violation, stats = repair_contiguous(problem, prepare(problem), 2, [0, 0, 0, 1, 1, 1])
    assert violation == 0.0
    assert stats.sse_before == 108.0  # {0,0,9}: 54, {0,9,9}: 54
    assert abs(stats.sse_after - 60.75) < 1e-9
    assert labels[2] == labels[3] and labels[0] == labels[1] != labels[2]
    assert not check_plan(_plan(problem, labels), problem)


def test_balance_band_is_reached_by_a_flip():
    """Populations 5,1,1,1,1,5, band 7 ± 20 % = [5.6, 8.4]: start {u0} (5) | rest (9) is
    fixed; the feasible connected plan of least SSE is {u0,u1,u2} | {u3,u4,u5} (7 and 7)."""
    problem = _path_problem([0, 1, 2, 3, 4, 5], [5, 1, 1, 1, 1, 5], min_size=1, max_size=5,
                            balance={"population": 0.2})
    labels, violation, stats = repair_contiguous(problem, prepare(problem), 2, [0, 1, 1, 1, 1, 1])
    assert stats.violation_before > 0
    assert violation == 0.0
    assert labels == [0, 0, 0, 1, 1, 1]
    assert not check_plan(_plan(problem, labels), problem)


def test_locked_units_never_move():
    """A fixed unit stays in its cluster even where moving it would lower the SSE."""
    problem = _path_problem([0, 0, 9, 0, 9, 9], [1] * 6, min_size=2, max_size=4,
                            fixed={"u3": "C1"})
    labels, _, _ = repair_contiguous(problem, prepare(problem), 2, [0, 0, 0, 1, 1, 1])
    assert labels[3] == 1


def test_one_region_keeps_a_unit_out_of_another_region():
    """x = 0,0,9,9,9,9: u2 would join {u3,u4,u5} (SSE 54 → 0) but its region is A, theirs B."""
    xs, start = [0, 0, 9, 9, 9, 9], [0, 0, 0, 1, 1, 1]
    free = _path_problem(xs, [1] * 6, min_size=1, max_size=5)
    assert repair_contiguous(free, prepare(free), 2, start)[0] == [0, 0, 1, 1, 1, 1]
    ruled = _path_problem(xs, [1] * 6, regions="AAABBB", min_size=1, max_size=5, one_region=True)
    labels, violation, _ = repair_contiguous(ruled, prepare(ruled), 2, start)
    assert labels == start and violation == 0.0


def _sample(tol: float):
    problem = sample_problem(300, 50, 8.0, contiguous=True, balance={"population": tol})
    return problem, prepare(problem), _seed_labels(problem, 50)


def test_sample_300_gets_a_plan_passing_check_plan():
    """300 sample units, 50 clusters of 5–7, contiguity, population ±100 %: every rule holds."""
    problem, data, seed = _sample(1.0)
    labels, violation, stats = repair_contiguous(problem, data, 50, seed, max_work=600_000)
    assert violation == 0.0 and stats.violation_before > 0
    assert not check_plan(_plan(problem, labels), problem)
    X = np.asarray(problem.features.values)
    assert sse(X, np.asarray(labels), 50) == pytest.approx(stats.sse_after)


def test_sample_300_at_75_percent_reports_the_violation_left():
    """±75 % is infeasible (the heaviest unit's lightest connected 5-set is 1.87× the mean):
    the violation returned is positive, not hidden."""
    problem, data, seed = _sample(0.75)
    _, violation, _ = repair_contiguous(problem, data, 50, seed, max_work=300_000)
    assert violation > 0.1


def test_same_input_same_plan():
    """Two runs with the same allowance give the same labels."""
    problem, data, seed = _sample(1.0)
    first = repair_contiguous(problem, data, 50, seed, max_work=200_000)
    second = repair_contiguous(problem, data, 50, seed, max_work=200_000)
    assert first[0] == second[0] and first[2] == second[2]


@pytest.mark.slow
def test_solve_300_contiguous_returns_a_checked_plan():
    """solve() on the 300-unit sample with contiguity (±100 %, 8 s) returns a plan with no violation."""
    problem, _, _ = _sample(1.0)
    plan = solve(problem)
    assert not check_plan(plan, problem)
    assert plan.details["contig_violation"] == 0.0


def test_lns_rounds_do_not_start_what_cannot_end_in_time(monkeypatch):
    """Each sub-model takes 0.8 s to build (uncharged, unstoppable) with 2.5 s left: the rounds
    stop while the last one's wall time still fits, so the plan is handed back by the deadline."""
    import time

    from optimizer import neighbourhood

    problem, _, _ = _sample(1.0)
    real = neighbourhood.build_model

    def slow_build(*args, **kwargs):
        time.sleep(0.8)
        return real(*args, **kwargs)

    plan = solve(problem)  # the outcome to improve, from the whole solve
    labels = [plan.assignment.labels[u] for u in problem.unit_ids]
    medoids = _medoids_of(problem, [sorted(set(labels)).index(c) for c in labels])
    out = SimpleNamespace(medoid_of=[medoids[i] for i in range(300)], bound=0, interrupted=False)
    out.model_cost = sum(neighbourhood._cluster_cost(problem, [i for i in range(300) if medoids[i] == m], m)
                         for m in set(out.medoid_of))
    monkeypatch.setattr(neighbourhood, "build_model", slow_build)
    deadline = time.monotonic() + 2.5
    rounds, _ = neighbourhood.lns_rounds(problem, prepare(problem), 50, out, deadline,
                                         time.monotonic(), None, None)
    assert time.monotonic() <= deadline
    assert 1 <= rounds <= 2
