"""The solver's optimum equals a brute-force enumeration of all partitions.

The oracle enumerates every partition of ≤ 7 units into K blocks, keeps those
that ``check_plan`` accepts (labels matched to the current grouping by
``label_partition``), and scores them with ``objective.partition_cost`` — the
objective's definition, not the model.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import make_problem, make_profiles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.check import check_plan
from optimizer.data import prepare
from optimizer.errors import InfeasibleError
from optimizer.labels import count_moved, label_partition
from optimizer.objective import COST_SCALE, distance_matrix, move_cost, partition_cost
from optimizer.plan import Assignment, Plan, SolveStatus
from optimizer.problem import Problem
from optimizer.solve import solve


def partitions(n: int, k: int) -> Iterator[list[int]]:
    """Every partition of range(n) into exactly k blocks (restricted growth strings)."""

    def grow(prefix: list[int], used: int) -> Iterator[list[int]]:
        i = len(prefix)
        if i == n:
            if used == k:
                yield list(prefix)
            return
        if used + (n - i) < k:
            return
        for c in range(min(used + 1, k)):
            prefix.append(c)
            yield from grow(prefix, max(used, c + 1))
            prefix.pop()

    yield from grow([], 0)


def brute_force(problem: Problem) -> dict[int, int]:
    """Lowest integer cost per cluster count over partitions that pass check_plan."""
    data = prepare(problem)
    dist = distance_matrix(problem.features)
    ids = problem.unit_ids
    mc = move_cost(problem.rules.stability_weight)
    best: dict[int, int] = {}
    for k in problem.rules.counts:
        for blocks in partitions(len(ids), k):
            first: dict[int, int] = {}
            for i, b in enumerate(blocks):
                first.setdefault(b, i)
            clusters, labels = label_partition([first[b] for b in blocks], data)
            plan = Plan(
                assignment=Assignment({u: c for u, c in zip(ids, clusters)}),
                cluster_labels=labels,
                status=SolveStatus.FEASIBLE,
                objective=0.0,
                bound=0.0,
                solve_seconds=0.0,
                seed=0,
            )
            if check_plan(plan, problem):
                continue
            cost = partition_cost(blocks, dist) + mc * count_moved(clusters, labels, data)
            if k not in best or cost < best[k]:
                best[k] = cost
    return best


def test_partitions_counts_match_stirling_numbers():
    """The enumerator yields S(n, k) partitions (S(5,2)=15, S(6,3)=90, S(7,3)=301)."""
    assert sum(1 for _ in partitions(5, 2)) == 15
    assert sum(1 for _ in partitions(6, 3)) == 90
    assert sum(1 for _ in partitions(7, 3)) == 301


def _profiles(values, funcs, regions, currents):
    rows = []
    for i, (v, f, r, c) in enumerate(zip(values, funcs, regions, currents)):
        rows.append(
            {"unit_id": f"u{i}", "function": f, "region": r, "current_cluster": c,
             "lat": float(i % 3), "lon": float(i // 3), "population": float(v)}
        )
    return make_profiles(rows)


@st.composite
def small_problems(draw) -> Problem:
    n = draw(st.integers(4, 7))
    values = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))
    funcs = draw(st.lists(st.sampled_from(["a", "b", "a;b"]), min_size=n, max_size=n))
    regions = draw(st.lists(st.sampled_from(["N", "S", None]), min_size=n, max_size=n))
    currents = draw(st.lists(st.sampled_from(["X", "Y", None]), min_size=n, max_size=n))
    ids = [f"u{i}" for i in range(n)]
    rules: dict = {}
    if draw(st.booleans()):
        rules["n_clusters"] = draw(st.integers(2, 3))
    else:
        rules["min_count"], rules["max_count"] = 2, 3
    if draw(st.booleans()):
        rules["min_size"] = draw(st.integers(1, 2))
    if draw(st.booleans()):
        rules["max_size"] = draw(st.integers(2, 4))
    if draw(st.booleans()):
        rules["balance"] = {"population": draw(st.sampled_from([0.2, 0.5, 1.0]))}
    rules["one_region"] = draw(st.booleans())
    rules["one_function"] = draw(st.booleans())
    if draw(st.booleans()):
        rules["together"] = (tuple(draw(st.permutations(ids)))[:2],)
    if draw(st.booleans()):
        rules["apart"] = (tuple(draw(st.permutations(ids)))[:2],)
    if draw(st.booleans()):
        rules["fixed"] = {ids[0]: "X", ids[-1]: draw(st.sampled_from(["X", "Z"]))}
    if draw(st.booleans()):
        rules["max_moves"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        rules["stability_weight"] = 0.5
    pairs = None
    if draw(st.booleans()):
        edges = draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
        pairs = [(ids[a], ids[b]) for a, b in edges if a < b]
        pairs += [(ids[i], ids[i + 1]) for i in range(n - 1) if draw(st.booleans())]
        rules["contiguous"] = True
    profiles = _profiles(values, funcs, regions, currents)
    return make_problem(
        profiles, weights={"function": 1.0, "location": 1.0, "population": 1.0},
        pairs=pairs, time_limit_s=20.0, **rules,
    )


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_solver_optimum_equals_brute_force(problem):
    """On random ≤7-unit tables under random rules, solve() = brute force (or both infeasible)."""
    expected = brute_force(problem)
    if not expected:
        with pytest.raises(InfeasibleError):
            solve(problem)
        return
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.status is SolveStatus.OPTIMAL
    counts = plan.details["counts"]
    for k in problem.rules.counts:
        entry = counts.get(str(k), {"status": "INFEASIBLE"})
        if k in expected:
            assert entry["status"] == "OPTIMAL"
            assert round(entry["objective"] * COST_SCALE) == expected[k]
        else:
            assert entry["status"] == "INFEASIBLE"
    assert round(plan.objective * COST_SCALE) == expected[plan.n_clusters]


def test_brute_force_fixed_example():
    """Hand-checked: 4 units on a line 0,1,10,11 into 2 clusters costs 1 + 1 (scaled)."""
    rows = [{"unit_id": u, "x": float(v)} for u, v in zip("ABCD", [0, 1, 10, 11])]
    profiles = make_profiles(rows)
    problem = make_problem(profiles, weights={"x": 1.0}, n_clusters=2)
    plan = solve(problem)
    expected = brute_force(problem)
    assert round(plan.objective * COST_SCALE) == expected[2]
    parts = sorted(sorted(p) for p in plan.assignment.parts().values())
    assert parts == [["A", "B"], ["C", "D"]]
