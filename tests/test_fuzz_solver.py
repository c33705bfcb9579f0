"""Hypothesis on the solver beyond brute-force sizes: every plan it returns passes ``check_plan``.

``test_bruteforce`` proves optimality on 4-7 units. Here problems of 8-20
units with random rule mixes (contiguity on random graphs, balance, sizes,
regions, together/apart/fixed, ranges of counts) run under short time limits,
and some are stopped early from another thread: whatever comes back must be a
complete, verified plan, or an infeasibility / no-solution error.
"""

from __future__ import annotations

import threading

import pytest
from helpers import make_problem, make_profiles
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.check import check_plan
from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.plan import Plan, SolveStatus
from optimizer.problem import Problem
from optimizer.solve import solve


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """A random problem of 8-20 units with lat/lon, two scale columns and a random rule mix."""
    n = draw(st.integers(8, 20))
    ids = [f"{i + 1:02d}" for i in range(n)]
    rows = []
    for uid in ids:
        rows.append(
            {
                "unit_id": uid,
                "function": draw(st.sampled_from(["xã", "phường", "xã;phường"])),
                "region": draw(st.sampled_from(["Bắc", "Trung", "Nam"])),
                "lat": draw(st.floats(8.5, 23.0, allow_nan=False)),
                "lon": draw(st.floats(102.5, 109.0, allow_nan=False)),
                "current_cluster": draw(st.sampled_from(["Cụm 1", "Cụm 2", "Cụm 3"])),
                "population": draw(st.integers(500, 90_000)),
                "area_km2": draw(st.floats(5.0, 900.0, allow_nan=False)),
            }
        )
    profiles = make_profiles(rows)
    rules: dict[str, object] = {}
    if draw(st.booleans()):
        rules["n_clusters"] = draw(st.integers(2, 5))
    else:
        low = draw(st.integers(2, 4))
        rules["min_count"], rules["max_count"] = low, low + draw(st.integers(0, 2))
    if draw(st.booleans()):
        rules["min_size"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        rules["max_size"] = draw(st.integers(4, 10))
    if draw(st.booleans()):
        rules["balance"] = {"population": draw(st.sampled_from([0.3, 0.6, 1.5]))}
    rules["one_region"] = draw(st.booleans()) and draw(st.booleans())
    if draw(st.booleans()):
        rules["together"] = (tuple(draw(st.permutations(ids))[:2]),)
    if draw(st.booleans()):
        rules["apart"] = (tuple(draw(st.permutations(ids))[:2]),)
    if draw(st.booleans()):
        rules["fixed"] = {
            ids[0]: "Cụm A",
            ids[-1]: draw(st.sampled_from(["Cụm A", "Cụm B"])),
        }
    if draw(st.booleans()):
        rules["max_moves"] = draw(st.integers(n // 2, n))
    pairs = None
    if draw(st.booleans()):
        pairs = [
            (ids[i], ids[i + 1]) for i in range(n - 1) if draw(st.integers(0, 9)) > 0
        ]
        extra = draw(
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n
            )
        )
        pairs += [(ids[a], ids[b]) for a, b in extra if a != b]
        rules["contiguous"] = draw(st.booleans())
    weights = draw(
        st.sampled_from(
            [
                {"location": 1.0, "population": 1.0},
                {"function": 2.0, "region": 1.0},
                {"population": 1.0, "area_km2": 0.5, "location": 3.0},
            ]
        )
    )
    return make_problem(
        profiles,
        weights=weights,
        pairs=pairs,
        seed=draw(st.integers(0, 3)),
        time_limit_s=draw(st.sampled_from([1.0, 2.0])),
        **rules,
    )


def _assert_verified(plan: Plan, problem: Problem) -> None:
    labels = plan.assignment.labels
    assert set(labels) == set(problem.unit_ids)
    assert sorted(set(labels.values())) == list(range(plan.n_clusters))
    assert plan.n_clusters in problem.rules.counts
    assert len(plan.cluster_labels) == plan.n_clusters
    assert check_plan(plan, problem) == []
    assert plan.bound <= plan.objective + 1e-6
    if plan.status is SolveStatus.OPTIMAL:
        assert plan.gap == 0.0


@pytest.mark.slow
@given(problem=problems())
@settings(max_examples=15, deadline=None)
def test_every_returned_plan_passes_check_plan(problem: Problem) -> None:
    """Within its time limit the solver returns a verified plan or says why it has none."""
    try:
        plan = solve(problem)
    except (InfeasibleError, NoSolutionError) as err:
        assert str(err).strip()
        return
    _assert_verified(plan, problem)


@pytest.mark.slow
@given(problem=problems(), delay=st.sampled_from([0.0, 0.05, 0.3]))
@settings(max_examples=10, deadline=None)
def test_plans_stopped_early_are_verified(problem: Problem, delay: float) -> None:
    """Stopping the search from another thread returns a verified plan, or no plan at all."""
    stop = threading.Event()
    timer = threading.Timer(delay, stop.set)
    timer.start()
    try:
        plan = solve(problem, stop=stop)
    except (InfeasibleError, NoSolutionError):
        return
    finally:
        timer.cancel()
    _assert_verified(plan, problem)
