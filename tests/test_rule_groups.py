"""Per-block starts for one_region / one_function on large tables (optimizer.rule_groups)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimizer.data import prepare
from optimizer.repair import balance_arrays
from optimizer.rule_groups import block_counts, grouped_start
from optimizer.seed import features_in_unit_order, rule_blocks
from tests.helpers import sample_problem

INF = np.array([np.inf])


def _wide(problem):
    """Sizes 5–15: every region of the sample can hold a whole number of clusters."""
    rules = dataclasses.replace(problem.rules, min_size=5, max_size=15)
    return dataclasses.replace(problem, rules=rules)
NO_BAND = (np.array([-np.inf]), INF)


def test_counts_follow_block_sizes() -> None:
    """Blocks of 30/20/10 units, 6 clusters of 4–12: shares 3/2/1."""
    totals = np.zeros((3, 1))
    assert block_counts([30, 20, 10], totals, 6, 4, 12, *NO_BAND) == [3, 2, 1]


def test_counts_respect_size_ranges() -> None:
    """A block of 7 units with sizes 3–4 must take exactly 2 clusters, whatever its share."""
    totals = np.zeros((2, 1))
    # 7 units: 2 clusters (3+4); 40 units: 10..13 clusters; k = 12 → [2, 10]
    assert block_counts([7, 40], totals, 12, 3, 4, *NO_BAND) == [2, 10]


def test_counts_respect_the_band() -> None:
    """A block whose total fits 1 cluster's band only gets 1 cluster, though its size allows 2."""
    totals = np.array([[100.0], [300.0]])
    lo, hi = np.array([90.0]), np.array([110.0])
    # block 0: sizes allow 1..2, band exactly 1; block 1: sizes 2..4, band 300/110..300/90 → 3
    assert block_counts([10, 20], totals, 4, 5, 10, lo, hi) == [1, 3]


def test_counts_none_when_no_choice_fits() -> None:
    """Sizes 5–6 with blocks of 7 units: no whole number of clusters fits → None."""
    assert block_counts([7, 12], np.zeros((2, 1)), 3, 5, 6, *NO_BAND) is None


def test_counts_none_when_k_out_of_reach() -> None:
    """The blocks can hold 2..4 clusters in all; k = 5 cannot be met."""
    assert block_counts([10, 10], np.zeros((2, 1)), 5, 5, 10, *NO_BAND) is None


@pytest.mark.parametrize(
    ("rule", "balance"), [("one_region", {"population": 0.4}), ("one_function", {})]
)
def test_grouped_start_keeps_blocks_sizes_and_bands(rule: str, balance: dict) -> None:
    """300 sample units, 30 clusters: no cluster mixes blocks; sizes (and bands) met."""
    problem = _wide(sample_problem(300, 30, 10.0, balance=balance, **{rule: True}))
    data = prepare(problem)
    blocks = rule_blocks(problem, features_in_unit_order(problem))
    assert len(blocks) > 1
    out = grouped_start(problem, data, 30, blocks, max_work=5e8, seconds=30.0)
    assert out is not None
    labels, violation = np.asarray(out[0]), out[1]
    assert violation == 0.0
    block_of = np.empty(data.n, dtype=np.int64)
    for b, idx in enumerate(blocks):
        block_of[idx] = b
    for c in range(30):
        assert len(set(block_of[labels == c].tolist())) == 1
    sizes = np.bincount(labels, minlength=30)
    assert sizes.min() >= problem.rules.min_size and sizes.max() <= problem.rules.max_size
    V, lo, hi, _ = balance_arrays(data, 30, data.n)
    sums = np.zeros((30, V.shape[1]))
    np.add.at(sums, labels, V)
    assert (sums >= lo - 1e-6).all() and (sums <= hi + 1e-6).all()


def test_grouped_start_is_deterministic() -> None:
    """The same problem gives the same labels twice."""
    problem = _wide(sample_problem(240, 24, 10.0, balance={"population": 0.5}, one_region=True))
    data = prepare(problem)
    blocks = rule_blocks(problem, features_in_unit_order(problem))
    a = grouped_start(problem, data, 24, blocks, max_work=2e8, seconds=30.0)
    b = grouped_start(problem, data, 24, blocks, max_work=2e8, seconds=30.0)
    assert a == b


def test_grouped_start_none_when_a_block_cannot_hold_a_cluster() -> None:
    """one_function ±40 %: a 7-unit function holds 0.26–0.6 of a cluster's population → None."""
    problem = _wide(sample_problem(300, 30, 10.0, balance={"population": 0.4}, one_function=True))
    data = prepare(problem)
    blocks = rule_blocks(problem, features_in_unit_order(problem))
    assert grouped_start(problem, data, 30, blocks, max_work=5e8, seconds=30.0) is None


@pytest.mark.slow
def test_solve_one_region_300_units_gets_a_plan() -> None:
    """300 units, 50 clusters of 5–7, ±75 %, one_region, 8 s: a verified plan (was: no plan)."""
    from optimizer.check import check_plan
    from optimizer.solve import solve

    problem = sample_problem(300, 50, 8.0, balance={"population": 0.75}, one_region=True)
    plan = solve(problem)
    assert check_plan(plan, problem) == []
    regions = problem.profiles.frame["region"].tolist()
    ids = list(problem.unit_ids)
    for members in plan.assignment.parts().values():
        assert len({regions[ids.index(u)] for u in members}) == 1


def test_a_block_of_many_clusters_is_cut_before_its_lp(monkeypatch) -> None:
    """2 000 sample units in 250 clusters of 6–10, one_region: the largest regions hold
    more than 32 clusters, and no LP sees more than 32 (one dense LP per region took 21 s
    of a 30-s limit at 10 000 units); clusters still never mix regions."""
    import optimizer.rule_groups as rule_groups

    problem = sample_problem(2000, 250, 10.0, balance={"population": 0.8}, one_region=True)
    problem = dataclasses.replace(
        problem, rules=dataclasses.replace(problem.rules, min_size=6, max_size=10))
    data = prepare(problem)
    blocks = rule_blocks(problem, features_in_unit_order(problem))
    counts: list[int] = []
    real = rule_groups.solve_group

    def recorded(X, V, lo, hi, mean, g, *args, **kwargs):
        counts.append(g)
        return real(X, V, lo, hi, mean, g, *args, **kwargs)

    monkeypatch.setattr(rule_groups, "solve_group", recorded)
    out = grouped_start(problem, data, 250, blocks, max_work=5e8, seconds=60.0)
    assert out is not None and out[1] == 0.0
    assert sum(counts) == 250 and max(counts) <= 32
    assert len(counts) > len(blocks)  # some region was cut
    block_of = np.empty(data.n, dtype=np.int64)
    for b, idx in enumerate(blocks):
        block_of[idx] = b
    labels = np.asarray(out[0])
    assert all(len(set(block_of[labels == c].tolist())) == 1 for c in range(250))


def test_units_of_two_functions_join_a_function_too_small_for_a_cluster() -> None:
    """A, B do x; C–F do y; G, H do both and go with y, the wider function. Three clusters of
    2–3, populations 10, 10 / 14 × 4 / 12, 10 (98), ±20 %: a cluster needs 26.1–39.2, so
    {A, B} (20) holds none; G, nearer to x's units, joins them: x = {A, B, G} (32), y =
    {C–F, H} (66: 28 + 38)."""
    from helpers import make_problem, make_profiles

    from optimizer.rule_groups import share_multi_function_units

    functions = ["x", "x", "y", "y", "y", "y", "x;y", "x;y"]
    pops = [10.0, 10.0, 14.0, 14.0, 14.0, 14.0, 12.0, 10.0]
    rows = [{"unit_id": chr(65 + i), "function": f, "population": p}
            for i, (f, p) in enumerate(zip(functions, pops))]
    problem = make_problem(make_profiles(rows), weights={"population": 1.0}, n_clusters=3,
                           min_size=2, max_size=3, balance={"population": 0.2}, one_function=True)
    data = prepare(problem)
    x = np.array([[0.0], [0.0], [9.0], [9.0], [9.0], [9.0], [1.0], [5.0]])
    blocks = rule_blocks(problem, x)
    assert [b.tolist() for b in blocks] == [[0, 1], [2, 3, 4, 5, 6, 7]]
    assert grouped_start(problem, data, 3, blocks, max_work=1e8, seconds=10.0) is None
    shared = share_multi_function_units(problem, data, 3, blocks, x)
    assert shared is not None
    assert [b.tolist() for b in shared] == [[0, 1, 6], [2, 3, 4, 5, 7]]
    out = grouped_start(problem, data, 3, shared, max_work=1e8, seconds=10.0)
    assert out is not None and out[1] == 0.0


def test_no_sharing_when_no_unit_of_two_functions_can_help() -> None:
    """Only single-function units: {A, B} stays too small, and the answer is None."""
    from helpers import make_problem, make_profiles

    from optimizer.rule_groups import share_multi_function_units

    rows = [{"unit_id": chr(65 + i), "function": f, "population": 10.0}
            for i, f in enumerate(["x", "x", "y", "y", "y", "y", "y", "y"])]
    problem = make_problem(make_profiles(rows), weights={}, n_clusters=3, min_size=2,
                           max_size=3, balance={"population": 0.2}, one_function=True)
    x = np.zeros((8, 1))
    blocks = rule_blocks(problem, x)
    assert share_multi_function_units(problem, prepare(problem), 3, blocks, x) is None


def _units(spec: list[tuple[str, str]], x: list[float], **rules):
    """Units A, B, … as (region, functions "a;b"), with one feature ``x``; no balance."""
    from tests.helpers import make_problem, make_profiles

    rows = [{"unit_id": chr(65 + i), "region": r, "function": f}
            for i, (r, f) in enumerate(spec)]
    problem = make_problem(make_profiles(rows), weights={}, **rules)
    return problem, np.asarray(x, dtype=np.float64)[:, None]


def test_under_both_rules_a_block_takes_units_of_its_own_region_only() -> None:
    """(x, f) = {A, B} is too small for a cluster of 3. F (x; f and g) and G (y; f and g)
    could join it by function; G is nearer by features but in region y, so F joins:
    (x, f) = {A, B, F}, (x, g) = {C, D, E}, (y, g) = {G…J} (3 300 units, 200 clusters of
    10–25, both rules: the unshared blocks gave no plan in 30 s)."""
    from optimizer.rule_groups import share_multi_function_units

    spec = [("x", "f"), ("x", "f"), ("x", "g"), ("x", "g"), ("x", "g"), ("x", "f;g"),
            ("y", "f;g"), ("y", "g"), ("y", "g"), ("y", "g")]
    problem, x = _units(spec, [0, 0, 9, 9, 9, 5, 1, 9, 9, 9], n_clusters=3, min_size=3,
                        max_size=4, one_region=True, one_function=True)
    blocks = rule_blocks(problem, x)
    assert [b.tolist() for b in blocks] == [[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    shared = share_multi_function_units(problem, prepare(problem), 3, blocks, x)
    assert shared is not None
    assert [b.tolist() for b in shared] == [[0, 1, 5], [2, 3, 4], [6, 7, 8, 9]]


def test_a_block_no_unit_can_join_is_dissolved_into_its_units_other_functions() -> None:
    """A and B (region x) do f and g and go with f, the wider function (F…I do f, in y);
    no unit of x can join them, but both can join (x, g) = {C, D, E}: two blocks remain,
    {A…E} and {F…I}."""
    from optimizer.rule_groups import share_multi_function_units

    spec = [("x", "f;g"), ("x", "f;g"), ("x", "g"), ("x", "g"), ("x", "g"),
            ("y", "f"), ("y", "f"), ("y", "f"), ("y", "f")]
    problem, x = _units(spec, [0, 0, 1, 1, 1, 5, 5, 5, 5], n_clusters=2, min_size=3,
                        max_size=5, one_region=True, one_function=True)
    blocks = rule_blocks(problem, x)
    assert [b.tolist() for b in blocks] == [[0, 1], [2, 3, 4], [5, 6, 7, 8]]
    shared = share_multi_function_units(problem, prepare(problem), 2, blocks, x)
    assert shared is not None
    assert [b.tolist() for b in shared] == [[0, 1, 2, 3, 4], [5, 6, 7, 8]]


def test_a_start_whose_parts_break_sizes_is_repaired_block_by_block(monkeypatch) -> None:
    """The blocks' start leaves x's clusters at 4 and 2 units (a cut block's part can miss
    the light units a heavy one needs: 10 000 units, both rules, no plan in 30 s); the
    whole block is repaired, to 3 and 3, and no cluster mixes x and y."""
    import time

    import optimizer.rule_groups as rule_groups
    from optimizer.budget import Clock
    from optimizer.lns_phases import grouped

    spec = [("x", "f")] * 6 + [("y", "f")] * 6
    problem, _ = _units(spec, [0] * 12, n_clusters=4, min_size=3, max_size=3, one_region=True)
    start = [0, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3]
    monkeypatch.setattr(rule_groups, "grouped_start", lambda *a, **k: (list(start), 1.0))
    out = grouped(problem, prepare(problem), 4, 5.0, time.monotonic() + 30.0,
                  Clock(time.monotonic() + 30.0))
    assert out is not None
    labels, violation, codes = out
    assert violation == 0.0
    assert codes.tolist() == [0] * 6 + [1] * 6
    lab = np.asarray(labels)
    assert sorted(np.bincount(lab).tolist()) == [3, 3, 3, 3]
    assert all(len(set(codes[lab == c].tolist())) == 1 for c in range(4))
