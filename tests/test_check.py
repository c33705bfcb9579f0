"""Tests of optimizer.check: each rule alone, satisfied and broken."""

from __future__ import annotations

import pytest
from helpers import (
    UNITS_OK_SMALL_PAIRS,
    make_plan,
    make_problem,
    make_profiles,
    units_ok_small,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from features.i18n import language
from optimizer.check import Violation, active_rules, check_plan, checks_summary

# units_ok_small (see helpers):  A─B─C─D─E─F, A B C school/North, D E F hospital/South,
# population 100 200 300 100 200 300, current X X Y Y Y X.
GOOD = [0, 0, 0, 1, 1, 1]  # {A,B,C} {D,E,F}
MIXED = [0, 1, 0, 1, 0, 1]  # {A,C,E} {B,D,F}


@pytest.fixture(scope="module")
def small():
    """The six-unit table of ``helpers.units_ok_small``."""
    return units_ok_small()


def plan_of(profiles, labels, cluster_labels=None):
    return make_plan(labels, unit_ids=profiles.unit_ids, cluster_labels=cluster_labels)


def rules_of(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


CASES = [
    # rule name, rules, plan that satisfies, plan that breaks (labels, cluster labels)
    ("min_size", {"min_size": 3}, (GOOD, None), ([0, 0, 0, 0, 1, 1], None)),
    ("max_size", {"max_size": 3}, (GOOD, None), ([0, 0, 0, 0, 1, 1], None)),
    (
        "balance:population",
        {"balance": {"population": 0.1}},
        (GOOD, None),  # 600 / 600
        ([0, 0, 1, 0, 1, 1], None),  # A B D = 400 vs 800, mean 600 +-60
    ),
    ("contiguous", {"contiguous": True}, (GOOD, None), (MIXED, None)),
    ("one_region", {"one_region": True}, (GOOD, None), ([0, 0, 1, 1, 1, 1], None)),
    ("one_function", {"one_function": True}, (GOOD, None), ([0, 0, 1, 1, 1, 1], None)),
    ("together", {"together": (("A", "C"),)}, (GOOD, None), ([0, 1, 1, 1, 0, 0], None)),
    ("apart", {"apart": (("A", "D"),)}, (GOOD, None), ([0, 0, 0, 0, 1, 1], None)),
    ("fixed", {"fixed": {"A": "X", "D": "Y"}}, (GOOD, ["X", "Y"]), (GOOD, ["Y", "X"])),
    ("max_moves", {"max_moves": 2}, (GOOD, ["X", "Y"]), (GOOD, ["Y", "X"])),
]


@pytest.mark.parametrize(
    ("rule", "rules", "good", "bad"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_alone(small, rule, rules, good, bad):
    """A plan that satisfies the rule passes; one that breaks it gives only that rule."""
    problem = make_problem(small, pairs=UNITS_OK_SMALL_PAIRS, **rules)
    assert check_plan(plan_of(small, *good), problem) == []
    violations = check_plan(plan_of(small, *bad), problem)
    assert violations and set(rules_of(violations)) == {rule}
    summary = checks_summary(plan_of(small, *bad), problem)
    assert summary[rule] != "ok"
    assert all(v == "ok" for k, v in summary.items() if k != rule)
    with language("en"):
        english = checks_summary(plan_of(small, *bad), problem)[rule]
    assert english != summary[rule]


def test_unit_listed_in_violation(small):
    """Violations name the offending units."""
    problem = make_problem(small, apart=(("A", "B"),))
    (violation,) = check_plan(plan_of(small, GOOD), problem)
    assert violation.units == ("A", "B")


def test_balance_exact_boundary_accepted(small):
    """A total exactly on the band edge (float noise included) is accepted."""
    # {A,B,D}=400 vs {C,E,F}=800: mean 600, tol 1/3 -> band [400, 800] exactly
    problem = make_problem(small, balance={"population": 1 / 3})
    assert check_plan(plan_of(small, [0, 0, 1, 0, 1, 1]), problem) == []
    tighter = make_problem(small, balance={"population": 1 / 3 - 1e-6})
    assert rules_of(check_plan(plan_of(small, [0, 0, 1, 0, 1, 1]), tighter)) == [
        "balance:population",
        "balance:population",
    ]


def test_partition_missing_and_unknown(small):
    """Missing and foreign units are partition violations, reported once."""
    problem = make_problem(small, min_size=1)
    labels = {"A": 0, "B": 0, "C": 0, "D": 1, "E": 1, "Z": 1}
    violations = check_plan(make_plan(labels), problem)
    assert rules_of(violations) == ["partition", "partition"]
    assert violations[0].units == ("F",)
    assert violations[1].units == ("Z",)


def test_cluster_ids_and_count(small):
    """Ids outside 0..K-1, empty clusters, a disallowed K and duplicate labels are caught."""
    problem = make_problem(small, n_clusters=2)
    assert rules_of(
        check_plan(plan_of(small, [0, 0, 0, 0, 0, 0], ["P", "Q"]), problem)
    ) == ["clusters"]
    out = check_plan(plan_of(small, [0, 0, 0, 2, 2, 2], ["P", "Q"]), problem)
    assert rules_of(out) == ["clusters", "clusters"]  # bad id 2 and empty cluster 1
    three = plan_of(small, [0, 0, 1, 1, 2, 2])
    assert rules_of(check_plan(three, problem)) == ["clusters"]
    ranged = make_problem(small, min_count=2, max_count=3)
    assert check_plan(three, ranged) == []
    assert rules_of(check_plan(plan_of(small, GOOD, ["P", "P"]), problem)) == [
        "clusters"
    ]


def test_contiguous_without_graph(small):
    """Contiguity without an adjacency graph cannot be verified: a violation."""
    problem = make_problem(small, contiguous=True)
    assert rules_of(check_plan(plan_of(small, GOOD), problem)) == ["contiguous"]


def test_one_region_ignores_missing_regions():
    """A unit without region fits any cluster under one_region."""
    p = make_profiles(
        [
            {"unit_id": "a", "region": "N"},
            {"unit_id": "b"},
            {"unit_id": "c", "region": "S"},
        ]
    )
    problem = make_problem(p, one_region=True)
    assert check_plan(make_plan([0, 0, 1], unit_ids=p.unit_ids), problem) == []
    assert rules_of(check_plan(make_plan([0, 1, 0], unit_ids=p.unit_ids), problem)) == [
        "one_region"
    ]


def test_one_function_multi_valued_and_missing():
    """Block mode: a shared function among multi-valued units is enough; none is a violation."""
    p = make_profiles(
        [
            {"unit_id": "a", "function": "x;y"},
            {"unit_id": "b", "function": "y"},
            {"unit_id": "c", "function": "z"},
            {"unit_id": "d", "function": ""},
        ]
    )
    problem = make_problem(p, one_function=True)
    out = check_plan(make_plan([0, 0, 1, 1], unit_ids=p.unit_ids), problem)
    assert rules_of(out) == ["one_function"] and out[0].units == ("d",)


def test_fixed_split_and_merged(small):
    """Fixed units split over clusters, or two labels merged, are violations."""
    problem = make_problem(small, fixed={"A": "X", "F": "X"})
    split = check_plan(plan_of(small, GOOD, ["X", "Y"]), problem)
    assert rules_of(split) == ["fixed", "fixed"]  # split, and F's cluster labelled Y
    merged = make_problem(small, fixed={"A": "X", "B": "Y"})
    out = check_plan(plan_of(small, GOOD, ["X", "Y"]), merged)
    assert "fixed" in rules_of(out) and any(
        "A" in v.units and "B" in v.units for v in out
    )


def test_max_moves_counts_by_label(small):
    """Moves compare current_cluster with the label of the new cluster."""
    # GOOD with labels X, Y: C (Y->X), D,E stay Y, F (X->Y): 2 moves
    problem = make_problem(small, max_moves=1)
    (violation,) = check_plan(plan_of(small, GOOD, ["X", "Y"]), problem)
    assert violation.units == ("C", "F")


def test_active_rules_and_english(small):
    """Only set rules are active; messages follow the language."""
    problem = make_problem(small, max_size=2, one_region=True)
    assert active_rules(problem) == ["partition", "clusters", "max_size", "one_region"]
    with language("en"):
        (v, _) = check_plan(plan_of(small, GOOD), problem)
    assert "more than the maximum 2" in v.message
    with language("vi"):
        (v, _) = check_plan(plan_of(small, GOOD), problem)
    assert "nhiều hơn tối đa 2" in v.message


# --- property: check_plan agrees with a brute-force oracle on random cases -------------


def _connected(units: list[str], edges: set[frozenset[str]]) -> bool:
    """Hand-written flood fill (independent of networkx)."""
    if len(units) <= 1:
        return True
    seen, todo = {units[0]}, [units[0]]
    while todo:
        u = todo.pop()
        for v in units:
            if v not in seen and frozenset((u, v)) in edges:
                seen.add(v)
                todo.append(v)
    return len(seen) == len(units)


def oracle(profiles, problem, labels: dict[str, int], names: list[str]) -> set[str]:
    """Rules broken by ``labels``, computed pair by pair from the definitions."""
    rules, frame, k = problem.rules, profiles.frame, len(names)
    name_of = {c: names[c] for c in range(k)}  # ids >= k have no label
    units = list(profiles.unit_ids)
    members = {c: [u for u in units if labels[u] == c] for c in range(k)}
    # grouping rules look at the actual groups, out-of-range ids included
    groups = [[u for u in units if labels[u] == c] for c in set(labels.values())]
    broken = set()
    if set(labels.values()) != set(range(k)) or k not in rules.counts:
        broken.add("clusters")
    if len(set(names)) < k:
        broken.add("clusters")
    if rules.min_size is not None and any(
        len(m) < rules.min_size for m in members.values()
    ):
        broken.add("min_size")
    if rules.max_size is not None and any(
        len(m) > rules.max_size for m in members.values()
    ):
        broken.add("max_size")
    for column, tol in rules.balance.items():
        mean = frame[column].sum() / k
        for m in members.values():
            total = sum(frame[column][u] for u in m)
            if abs(total - mean) > tol * abs(mean) + 1e-9 * max(abs(mean), 1):
                broken.add(f"balance:{column}")
    if rules.contiguous:
        edges = {frozenset(e) for e in problem.graph.edges}
        if not all(_connected(m, edges) for m in groups):
            broken.add("contiguous")
    same = [(a, b) for a in units for b in units if a < b and labels[a] == labels[b]]
    if rules.one_region:
        region = frame["region"]
        if any(region[a] and region[b] and region[a] != region[b] for a, b in same):
            broken.add("one_region")
    if rules.one_function:
        fns = frame["functions"]
        if any(not fns[u] for u in units):
            broken.add("one_function")
        for m in groups:
            sets = [set(fns[u]) for u in m if fns[u]]
            if sets and not set.intersection(*sets):
                broken.add("one_function")
    for group in rules.together:
        if len({labels[u] for u in group}) > 1:
            broken.add("together")
    for group in rules.apart:
        if len({labels[u] for u in group}) < len(group):
            broken.add("apart")
    for a, la in rules.fixed.items():
        if name_of.get(labels[a]) != la:
            broken.add("fixed")
        for b, lb in rules.fixed.items():
            if (la == lb) != (labels[a] == labels[b]):
                broken.add("fixed")
    if rules.max_moves is not None:
        current = frame["current_cluster"]
        moved = sum(
            1 for u in units if current[u] and current[u] != name_of.get(labels[u])
        )
        if moved > rules.max_moves:
            broken.add("max_moves")
    return broken


@st.composite
def random_cases(draw):
    """A random table of 2-7 units, random rules and a random (often invalid) plan."""
    n = draw(st.integers(2, 7))
    ids = [f"u{i}" for i in range(n)]
    pool = ["L0", "L1", "L2"]
    rows = [
        {
            "unit_id": u,
            "function": draw(st.sampled_from(["", "a", "b", "a;b"])),
            "region": draw(st.sampled_from([None, "N", "S"])),
            "current_cluster": draw(st.sampled_from([None, *pool])),
            "pop": draw(st.integers(0, 50)),
        }
        for u in ids
    ]
    profiles = make_profiles(rows)
    pairs = draw(st.lists(st.sampled_from([(a, b) for a in ids for b in ids if a < b])))
    k = draw(st.integers(1, 3))
    names = draw(st.lists(st.sampled_from(pool), min_size=k, max_size=k))
    labels = dict(zip(ids, draw(st.lists(st.integers(0, k), min_size=n, max_size=n))))
    two = st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True)
    rules = {
        "n_clusters": draw(st.integers(1, 3)),
        "min_size": draw(st.none() | st.integers(1, 3)),
        "max_size": draw(st.none() | st.integers(1, 4)),
        "balance": draw(st.sampled_from([{}, {"pop": 0.2}, {"pop": 1.0}])),
        "contiguous": draw(st.booleans()),
        "one_region": draw(st.booleans()),
        "one_function": draw(st.booleans()),
        "together": tuple(tuple(g) for g in draw(st.lists(two, max_size=2))),
        "apart": tuple(tuple(g) for g in draw(st.lists(two, max_size=2))),
        "fixed": draw(
            st.dictionaries(st.sampled_from(ids), st.sampled_from(pool), max_size=2)
        ),
        "max_moves": draw(st.none() | st.integers(0, 3)),
    }
    return profiles, pairs, rules, labels, names


@settings(max_examples=60, deadline=None)
@given(random_cases())
def test_check_plan_matches_oracle(case):
    """On random tables, rules and plans, check_plan flags exactly the broken rules."""
    profiles, pairs, rules, labels, names = case
    problem = make_problem(profiles, weights={}, pairs=pairs, **rules)
    plan = make_plan(labels, cluster_labels=names)
    found = {v.rule for v in check_plan(plan, problem)}
    assert found == oracle(profiles, problem, labels, names)
    summary = checks_summary(plan, problem)
    assert {rule for rule, text in summary.items() if text != "ok"} == found
