"""Each planner rule alone and combined: respected when satisfiable, InfeasibleError when not.

Fixture (``units_ok_small`` from helpers)::

    A(0,0)─B(0,1)─C(0,2)─D(0,10)─E(0,11)─F(0,12)
    school/North x3         hospital/South x3
    pop 100 200 300         pop 100 200 300
    current: X X Y          current: Y Y X
"""

from __future__ import annotations

import pytest
from helpers import UNITS_OK_SMALL_PAIRS, make_problem, make_profiles, units_ok_small

from optimizer.check import check_plan, moved_units
from optimizer.errors import InfeasibleError
from optimizer.plan import SolveStatus
from optimizer.solve import solve

WEIGHTS = {"function": 1.0, "location": 1.0, "population": 1.0}


def _solve(**rules):
    problem = make_problem(
        units_ok_small(), weights=WEIGHTS, pairs=UNITS_OK_SMALL_PAIRS, **rules
    )
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    return plan, problem


def _parts(plan):
    return sorted(sorted(p) for p in plan.assignment.parts().values())


def test_no_rules_gives_the_obvious_split():
    """Without rules, schools and hospitals form the two clusters, proven optimal."""
    plan, _ = _solve(n_clusters=2)
    assert _parts(plan) == [["A", "B", "C"], ["D", "E", "F"]]
    assert plan.status is SolveStatus.OPTIMAL
    assert plan.bound == pytest.approx(plan.objective)


@pytest.mark.parametrize(
    ("rules", "ok"),
    [
        ({"n_clusters": 3, "min_size": 2, "max_size": 2}, lambda parts: all(len(p) == 2 for p in parts)),
        ({"n_clusters": 2, "max_size": 4, "min_size": 2}, lambda parts: all(2 <= len(p) <= 4 for p in parts)),
        ({"n_clusters": 2, "together": (("A", "F"),)}, lambda parts: any({"A", "F"} <= set(p) for p in parts)),
        ({"n_clusters": 3, "apart": (("A", "B", "C"),)}, None),
        ({"n_clusters": 3, "one_region": True}, lambda parts: all(set(p) <= set("ABC") or set(p) <= set("DEF") for p in parts)),
        ({"n_clusters": 3, "one_function": True}, lambda parts: all(set(p) <= set("ABC") or set(p) <= set("DEF") for p in parts)),
        ({"n_clusters": 3, "contiguous": True}, None),
        ({"n_clusters": 2, "balance": {"population": 0.0}}, lambda parts: True),
        ({"n_clusters": 2, "fixed": {"A": "Nhóm 1", "D": "Nhóm 1"}}, lambda parts: any({"A", "D"} <= set(p) for p in parts)),
        ({"n_clusters": 2, "max_moves": 0, "balance": {"population": 0.5}}, None),
    ],
)
def test_each_rule_alone_is_respected(rules, ok):
    """Each satisfiable rule yields a plan that check_plan accepts and the rule shows."""
    plan, _ = _solve(**rules)
    if ok is not None:
        assert ok(_parts(plan))


def test_contiguity_forces_a_connected_but_costlier_plan():
    """A path graph A..F with A,C,E / B,D,F apart-heavy features: contiguity splits by segments."""
    rows = [
        {"unit_id": u, "function": f, "lat": 0.0, "lon": float(i)}
        for i, (u, f) in enumerate(zip("ABCDEF", "xyxyxy"))
    ]
    pairs = [(a, b) for a, b in zip("ABCDE", "BCDEF")]
    free = solve(make_problem(make_profiles(rows), weights={"function": 5.0}, pairs=pairs, n_clusters=2))
    assert _parts(free) == [["A", "C", "E"], ["B", "D", "F"]]
    problem = make_problem(
        make_profiles(rows), weights={"function": 5.0}, pairs=pairs, n_clusters=2, contiguous=True
    )
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    assert plan.status is SolveStatus.OPTIMAL
    assert plan.objective > free.objective
    for part in _parts(plan):
        idx = sorted("ABCDEF".index(u) for u in part)
        assert idx == list(range(idx[0], idx[-1] + 1))


def test_contiguity_proves_infeasibility_with_sizes():
    """Star graph: centre plus 4 leaves cannot form 2 connected clusters of sizes ≤ 3 and ≥ 2."""
    rows = [{"unit_id": u, "lat": 0.0, "lon": float(i)} for i, u in enumerate("CLMNO")]
    pairs = [("C", leaf) for leaf in "LMNO"]
    problem = make_problem(
        make_profiles(rows), weights={"location": 1.0}, pairs=pairs,
        n_clusters=2, min_size=2, max_size=3, contiguous=True,
    )
    with pytest.raises(InfeasibleError) as err:
        solve(problem)
    assert "contiguous" in err.value.rules


@pytest.mark.parametrize(
    "rules",
    [
        {"n_clusters": 2, "balance": {"population": 0.0}, "together": (("C", "D", "F"),)},
        {"n_clusters": 2, "apart": (("A", "B"), ("B", "C"), ("A", "C")), "max_size": 3, "one_function": True},
        {"n_clusters": 2, "max_moves": 0, "together": (("A", "C"),)},
        {"n_clusters": 2, "fixed": {"A": "P", "B": "Q"}, "one_region": True},
        {"n_clusters": 2, "contiguous": True, "apart": (("C", "D"),), "balance": {"population": 0.0}, "fixed": {"A": "P", "F": "P"}},
    ],
)
def test_unsatisfiable_combinations_raise_infeasible(rules):
    """Combinations that no plan satisfies raise InfeasibleError (precheck or solver proof)."""
    problem = make_problem(units_ok_small(), weights=WEIGHTS, pairs=UNITS_OK_SMALL_PAIRS, **rules)
    with pytest.raises(InfeasibleError):
        solve(problem)


def test_combined_rules_hold_together():
    """Sizes, balance, contiguity, apart, together and fixed at once: every rule holds."""
    plan, _ = _solve(
        n_clusters=2, min_size=3, max_size=3, balance={"population": 0.01}, contiguous=True,
        apart=(("A", "F"),), together=(("B", "C"),), fixed={"A": "Tây"},
    )
    assert "Tây" in plan.cluster_labels
    assert plan.cluster_labels[plan.assignment.labels["A"]] == "Tây"


def test_max_moves_labels_follow_the_current_grouping():
    """With max_moves=2 the clusters are named X and Y and exactly the 2 forced moves happen."""
    plan, problem = _solve(n_clusters=2, max_moves=2)
    assert set(plan.cluster_labels) == {"X", "Y"}
    # schools A,B in X and C in Y; hospitals D,E in Y and F in X: best is ABC=X, DEF=Y
    assert sorted(moved_units(plan, problem)) == ["C", "F"]
    assert plan.details["units_moved"] == 2


def test_max_moves_zero_keeps_the_current_grouping():
    """max_moves=0 reproduces the current grouping exactly, labels included."""
    plan, problem = _solve(n_clusters=2, max_moves=0)
    for unit, current in problem.profiles.frame["current_cluster"].items():
        assert plan.cluster_labels[plan.assignment.labels[unit]] == current


def test_stability_weight_prefers_fewer_moves():
    """A large stability weight makes keeping the current grouping the optimum."""
    plan, problem = _solve(n_clusters=2, stability_weight=100.0)
    assert moved_units(plan, problem) == []
    free, _ = _solve(n_clusters=2)
    assert plan.details["dispersion"] > free.details["dispersion"]


def test_fixed_label_equal_to_a_current_group_continues_it():
    """Fixing F to 'Y' names F's cluster Y; the other cluster continues X."""
    plan, problem = _solve(n_clusters=2, fixed={"F": "Y"}, max_moves=3)
    assert plan.cluster_labels[plan.assignment.labels["F"]] == "Y"
    assert len(moved_units(plan, problem)) <= 3


def test_unlabelled_clusters_get_default_names_in_medoid_order():
    """Without a current grouping, clusters are 'Cụm 1', 'Cụm 2' numbered by table position."""
    rows = [{"unit_id": u, "x": float(v)} for u, v in zip("ABCD", [1, 2, 50, 60])]
    plan = solve(make_problem(make_profiles(rows), weights={"x": 1.0}, n_clusters=2))
    assert plan.cluster_labels == ("Cụm 1", "Cụm 2")
    assert plan.assignment.labels["A"] == 0
    assert plan.assignment.labels["D"] == 1
