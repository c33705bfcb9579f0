"""precheck: obvious impossibilities raise InfeasibleError with the numbers, before solving."""

from __future__ import annotations

import pytest
from helpers import UNITS_OK_SMALL_PAIRS, make_problem, make_profiles, units_ok_small

from features.errors import InputError
from features.i18n import language
from optimizer.errors import InfeasibleError
from optimizer.precheck import feasible_counts, precheck

WEIGHTS = {"function": 1.0, "location": 1.0, "population": 1.0}


def _problem(pairs=UNITS_OK_SMALL_PAIRS, profiles=None, **rules):
    return make_problem(profiles or units_ok_small(), weights=WEIGHTS, pairs=pairs, **rules)


@pytest.mark.parametrize(
    ("rules", "needles", "rule_names"),
    [
        ({"n_clusters": 7}, ["7", "6"], ["count"]),
        ({"n_clusters": 2, "max_size": 2}, ["2 clusters", "= 4 < 6"], ["count", "size"]),
        ({"n_clusters": 3, "min_size": 3}, ["= 9 > 6"], ["count", "size"]),
        ({"n_clusters": 2, "min_size": 4, "max_size": 3}, ["4", "3"], ["size"]),
        # mean 600 for 4 clusters = 300 ± 10 % → ≤ 330: fits; 5 clusters → 240·1.1 = 264 < 300 (C, F)
        ({"n_clusters": 5, "balance": {"population": 0.1}}, ["264", "300"], ["balance"]),
        ({"n_clusters": 2, "together": (("A", "B", "C", "D"),), "max_size": 3}, ["4", "3"], ["together", "size"]),
        ({"n_clusters": 2, "together": (("A", "B"),), "apart": (("A", "B"),)}, ["A", "B"], ["together", "apart"]),
        ({"n_clusters": 2, "together": (("A", "B"),), "fixed": {"A": "P", "B": "Q"}}, ["P", "Q"], ["fixed", "together"]),
        ({"n_clusters": 2, "fixed": {"A": "P", "B": "Q", "C": "R"}}, ["3", "2"], ["fixed", "count"]),
        ({"n_clusters": 2, "apart": (("A", "B", "C"),)}, ["3", "2"], ["apart", "count"]),
        ({"n_clusters": 2, "one_region": True, "together": (("A", "F"),)}, ["A", "F"], ["one_region", "together"]),
        ({"n_clusters": 3, "one_region": True, "max_size": 2}, ["4", "3"], ["one_region", "count"]),
        # current X = {A, B, F}, Y = {C, D, E}: one cluster keeps one name, 3 units stay at most
        ({"n_clusters": 1, "max_moves": 2}, ["at least 3 must", "keep at most 3"], ["max_moves", "count"]),
        # clusters of ≤ 2 keep ≤ 2 of X and ≤ 2 of Y
        ({"n_clusters": 3, "max_size": 2, "max_moves": 1}, ["at least 2 must", "keep at most 4"],
         ["max_moves", "count"]),
    ],
)
def test_precheck_messages_carry_numbers(rules, needles, rule_names):
    """Each obvious impossibility is reported with the numbers that prove it."""
    with language("en"), pytest.raises(InfeasibleError) as err:
        precheck(_problem(**rules))
    for needle in needles:
        assert needle in str(err.value)
    assert err.value.rules == rule_names


def test_precheck_vietnamese_by_default():
    """The default message is Vietnamese with diacritics."""
    with pytest.raises(InfeasibleError, match="đơn vị"):
        precheck(_problem(n_clusters=2, max_size=2))


def test_contiguity_needs_a_cluster_per_component():
    """Two components (no C–D edge) but one cluster: impossible, with both counts."""
    pairs = [p for p in UNITS_OK_SMALL_PAIRS if p != ("C", "D")]
    with language("en"), pytest.raises(InfeasibleError, match="2 separate components but only 1"):
        precheck(_problem(pairs=pairs, n_clusters=1, contiguous=True))


def test_contiguity_without_graph_is_reported():
    """Asking for contiguity without an adjacency graph is refused before solving."""
    with pytest.raises(InfeasibleError) as err:
        precheck(_problem(pairs=None, n_clusters=2, contiguous=True))
    assert err.value.rules == ["contiguous"]


def test_one_function_needs_every_function():
    """Block mode with a unit that has no function is refused, naming the unit."""
    rows = [{"unit_id": "A", "function": "x"}, {"unit_id": "B"}, {"unit_id": "C", "function": "x"}]
    problem = make_problem(make_profiles(rows), weights={}, n_clusters=2, one_function=True)
    with pytest.raises(InfeasibleError, match="B"):
        precheck(problem)


def test_one_function_counts_pairwise_disjoint_units():
    """Three units with pairwise different functions need 3 clusters, not 2."""
    rows = [{"unit_id": u, "function": f} for u, f in zip("ABC", "xyz")]
    problem = make_problem(make_profiles(rows), weights={}, n_clusters=2, one_function=True)
    with language("en"), pytest.raises(InfeasibleError, match="at least 3 clusters"):
        precheck(problem)


def test_missing_balance_values_are_an_input_error():
    """A balanced column with an empty cell is an input error naming the unit."""
    rows = [{"unit_id": "A", "pop": 1.0}, {"unit_id": "B", "pop": None}, {"unit_id": "C", "pop": 2.0}]
    problem = make_problem(make_profiles(rows), weights={}, n_clusters=2, balance={"pop": 0.5})
    with pytest.raises(InputError, match="B"):
        precheck(problem)


def test_count_range_skips_impossible_counts():
    """In a count range, counts that fail are dropped and the rest kept."""
    problem = _problem(min_count=2, max_count=4, max_size=2)
    assert feasible_counts(problem) == [3, 4]


def test_feasible_problem_passes():
    """A satisfiable problem passes silently."""
    precheck(_problem(n_clusters=2, min_size=3, max_size=3, balance={"population": 0.0}))


def test_max_moves_that_can_hold_passes_the_precheck():
    """Two clusters {A,B,C} / {D,E,F} named X / Y move only C and F: max_moves = 2 is possible."""
    precheck(_problem(n_clusters=2, max_moves=2))


def _regions(regions: str, pops: list[float], **rules):
    """Units A, B, … in the given regions ('-': none) with the given populations."""
    rows = [{"unit_id": chr(65 + i), "region": None if r == "-" else r, "population": p}
            for i, (r, p) in enumerate(zip(regions, pops))]
    return make_problem(make_profiles(rows), weights={}, one_region=True, **rules)


def test_one_region_a_region_that_cannot_hold_balanced_clusters():
    """Regions x = {A, B} (population 200) and y = {C…F} (400), 2 clusters ±10 %: each cluster
    needs 270–330, so x can hold no whole cluster (before: "no plan within the time limit")."""
    problem = _regions("xxyyyy", [100.0] * 6, n_clusters=2, balance={"population": 0.1})
    with language("en"), pytest.raises(InfeasibleError) as err:
        precheck(problem)
    assert "region 'x' has 2 units, population totalling 200" in str(err.value)
    assert "270–330" in str(err.value)
    assert err.value.rules == ["one_region", "size", "balance"]


def test_one_region_regions_need_another_cluster_count():
    """x = {A, B, C} and y = {D, E, F} in clusters of 2–3 take one cluster each: 3 is refused
    with the range that works, although 3 × 2 ≤ 6 ≤ 3 × 3."""
    problem = _regions("xxxyyy", [1.0] * 6, n_clusters=3, min_size=2, max_size=3)
    with language("en"), pytest.raises(InfeasibleError, match="takes 2 to 2 clusters, but there are 3"):
        precheck(problem)
    assert feasible_counts(_regions("xxxyyy", [1.0] * 6, min_count=2, max_count=4, min_size=2,
                                    max_size=3)) == [2]


def test_one_region_with_a_unit_of_no_region_gets_no_block_verdict():
    """A unit without a region may join either region's clusters: the blocks are not exact,
    so the arithmetic proves nothing and the solver decides."""
    precheck(_regions("xx-yyy", [100.0] * 6, n_clusters=2, balance={"population": 0.1}))


def test_one_function_together_units_must_share_a_function():
    """A does x, B does y: together under one_function is refused at once, naming both;
    with B doing x and y it passes."""
    rows = [{"unit_id": "A", "function": "x"}, {"unit_id": "B", "function": "y"},
            {"unit_id": "C", "function": "x"}]
    problem = make_problem(make_profiles(rows), weights={}, n_clusters=2, one_function=True,
                           together=(("A", "B"),))
    with language("en"), pytest.raises(InfeasibleError, match="shares no function") as err:
        precheck(problem)
    assert "A" in str(err.value) and "B" in str(err.value)
    assert err.value.rules == ["one_function", "together"]
    rows[1]["function"] = "x;y"
    precheck(make_problem(make_profiles(rows), weights={}, n_clusters=2, one_function=True,
                          together=(("A", "B"),)))


def _functions(spec: list[tuple[str, str, float]], **rules):
    """Units A, B, … as (region, functions "a;b", population)."""
    rows = [{"unit_id": chr(65 + i), "region": r, "function": f, "population": p}
            for i, (r, f, p) in enumerate(spec)]
    return make_problem(make_profiles(rows), weights={}, **rules)


def test_both_rules_a_unit_with_too_few_possible_cluster_mates():
    """A does f in region x; only B (f and g) shares both: no cluster of 3 can hold A. B's
    second function makes the blocks inexact, so the block check stands aside (before: "no
    plan within 30 s" on 3 300 units); with one more f unit in x the precheck passes."""
    spec = [("x", "f", 1.0), ("x", "f;g", 1.0), *[("x", "g", 1.0)] * 4, *[("y", "f", 1.0)] * 4]
    problem = _functions(spec, n_clusters=3, min_size=3, max_size=4, one_region=True,
                         one_function=True)
    with language("en"), pytest.raises(InfeasibleError) as err:
        precheck(problem)
    text = str(err.value)
    assert "unit A can share a cluster only with units of region 'x' and with function 'f'" in text
    assert "only 2 such units (itself included), fewer than min_size 3" in text
    assert "drop one_region or one_function" in text
    assert err.value.rules == ["one_region", "one_function", "size"]
    precheck(_functions([*spec, ("x", "f", 1.0)], n_clusters=3, min_size=3, max_size=4,
                        one_region=True, one_function=True))


def test_one_function_a_unit_whose_possible_cluster_mates_are_too_light():
    """Only A and B (10 each) do f; population 420 in 3 clusters ±20 % needs ≥ 112 each,
    and a cluster holding A reaches 20 at most (F's second function keeps the block check out)."""
    spec = [("x", "f", 10.0), ("x", "f", 10.0), *[("x", "g", 100.0)] * 3, ("x", "g;h", 100.0)]
    problem = _functions(spec, n_clusters=3, max_size=3, one_function=True,
                         balance={"population": 0.2})
    with language("en"), pytest.raises(InfeasibleError) as err:
        precheck(problem)
    assert "unit A can share a cluster only with units with function 'f'" in str(err.value)
    assert "totals at most 20 of 'population', below the minimum 112" in str(err.value)
    assert err.value.rules == ["one_function", "size", "balance"]
