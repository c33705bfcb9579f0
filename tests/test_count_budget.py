"""The time limit holds with wide count ranges, and diagnosis stays in proportion to it."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.diagnose import BUDGET_S, MIN_BUDGET_S, diagnosis_budget
from optimizer.relax import _largest_unit_floor
from optimizer.solve import COUNT_MIN_S, COUNT_S_PER_UNIT, counts_to_try
from tests.helpers import make_problem, make_profiles


def test_all_counts_when_the_limit_holds_them() -> None:
    """34 units, 60 s: each count needs 0.67 s, so 5 counts are all tried."""
    assert counts_to_try([4, 5, 6, 7, 8], 34, 60.0) == [4, 5, 6, 7, 8]


def test_counts_spread_evenly_with_both_ends() -> None:
    """300 units need 2 s per count: 5 s holds 2 counts, the range's two ends."""
    assert COUNT_MIN_S + COUNT_S_PER_UNIT * 300 == pytest.approx(2.0)
    assert counts_to_try(list(range(43, 61)), 300, 5.0) == [43, 60]
    picked = counts_to_try(list(range(43, 61)), 300, 8.0)
    assert picked == [43, 49, 54, 60]


def test_one_count_is_the_middle() -> None:
    """A limit that holds one count tries the middle of the range."""
    assert counts_to_try([10, 11, 12, 13, 14], 1000, 1.0) == [12]


def test_counts_to_try_is_deterministic_and_a_subset() -> None:
    """Same arguments, same counts; always a sorted subset of the possible ones."""
    counts = list(range(2, 200))
    a = counts_to_try(counts, 5000, 90.0)
    assert a == counts_to_try(counts, 5000, 90.0)
    assert a == sorted(a) and set(a) <= set(counts) and len(a) == 3


def test_diagnosis_budget_follows_the_limit() -> None:
    """2× the limit, clamped to [MIN_BUDGET_S, BUDGET_S]."""
    assert diagnosis_budget(1.0) == MIN_BUDGET_S
    assert diagnosis_budget(8.0) == 16.0
    assert diagnosis_budget(600.0) == BUDGET_S


def _problem_with_population(values: list[float], count: int, **rules):
    rows = [
        {"unit_id": f"u{i}", "name": f"Đơn vị {i}", "function": "A", "region": "R",
         "lat": 10.0 + i * 0.01, "lon": 106.0, "population": v}
        for i, v in enumerate(values)
    ]
    return make_problem(make_profiles(rows), weights={"population": 1.0},
                        n_clusters=count, balance={"population": 0.1}, **rules)


def test_largest_unit_floor() -> None:
    """Total 1 000 over 4 clusters (mean 250); a unit of 400 needs ≥ +60 %."""
    problem = _problem_with_population([400, 200, 150, 100, 50, 50, 25, 25], 4)
    assert _largest_unit_floor(problem, "population") == 60


def test_largest_unit_floor_uses_the_smallest_count() -> None:
    """With counts 2–4 the mean can be 500; a unit of 400 then fits without widening."""
    problem = _problem_with_population([400, 200, 150, 100, 50, 50, 25, 25], 4)
    rules = dataclasses.replace(problem.rules, n_clusters=None, min_count=2, max_count=4)
    problem = dataclasses.replace(problem, rules=rules)
    assert list(problem.rules.counts) == [2, 3, 4]
    assert _largest_unit_floor(problem, "population") == 0


@pytest.mark.slow
def test_sampled_counts_are_said_in_the_plan() -> None:
    """300 units, counts 40–50, 3 s: one count tried, and the plan's note says so."""
    from optimizer.solve import solve
    from tests.helpers import sample_problem

    problem = sample_problem(300, 45, 3.0)
    rules = dataclasses.replace(problem.rules, n_clusters=None, min_count=40, max_count=50)
    plan = solve(dataclasses.replace(problem, rules=rules))
    assert plan.details["counts_possible"] == 11
    assert list(plan.details["counts"]) == ["45"]
    assert any("1/11" in note or "1 of 11" in note for note in plan.notes)
