"""optimizer.local_search: moves and swaps that lower the sum of squares and keep every rule."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from helpers import make_problem, make_profiles
from hypothesis import given, settings
from hypothesis import strategies as st

from features.types import FeatureMatrix
from optimizer import local_search
from optimizer.data import prepare
from optimizer.local_search import improve, local_search_allowed, sse


def _line_problem(xs, pops, k, **rules):
    """Units on a line: feature = x exactly (no scaling), population = ``pops``."""
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(pops)]
    problem = make_problem(make_profiles(rows), n_clusters=k, **rules)
    fm = FeatureMatrix(
        values=np.asarray(xs, dtype=np.float64).reshape(-1, 1),
        unit_ids=problem.features.unit_ids,
        feature_names=("x",),
    )
    return dataclasses.replace(problem, features=fm)


def _on_features(problem, X: np.ndarray):
    """``problem`` with ``X`` (n × 3) as its feature matrix, so the sums of squares are known."""
    return dataclasses.replace(
        problem,
        features=FeatureMatrix(values=X, unit_ids=problem.features.unit_ids, feature_names=("a", "b", "c")),
    )


def _random_banded(rng: np.random.Generator, n: int, k: int):
    """``n`` random 2-D units in ``k`` round-robin clusters with a population band (±30 %, or
    wider when the start needs it): ``(problem, X, pops, labels0, tol)``."""
    X = rng.normal(size=(n, 2))
    pops = rng.integers(1, 5, size=n).astype(float)
    labels0 = np.arange(n) % k
    totals = np.bincount(labels0, weights=pops, minlength=k)
    tol = max(0.3, float(np.abs(totals / (pops.sum() / k) - 1).max()) + 1e-6)
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(pops)]
    problem = make_problem(make_profiles(rows), n_clusters=k, min_size=n // k,
                           max_size=-(-n // k), balance={"population": tol})
    problem = dataclasses.replace(problem, features=FeatureMatrix(
        values=X, unit_ids=problem.features.unit_ids, feature_names=("a", "b")))
    return problem, X, pops, labels0, tol


def _far() -> float:
    return time.monotonic() + 30.0


def test_crossed_pairs_are_uncrossed_with_hand_computed_sums():
    """x = 0, 1, 10, 11 in clusters {0,10}, {1,11}: SSE 100 → 1 by one swap."""
    problem = _line_problem([0, 1, 10, 11], [1, 1, 1, 1], 2, min_size=2, max_size=2)
    labels, stats = improve(problem, prepare(problem), 2, [0, 1, 0, 1], deadline=_far())
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]
    assert stats.sse_before == 100.0
    assert abs(stats.sse_after - 1.0) < 1e-9
    assert stats.swaps == 1 and stats.moves == 0


def test_single_move_when_sizes_allow():
    """x = 0, 1, 10, 11, 2 with 2 in the far cluster and sizes 1..4: the 2 moves home."""
    problem = _line_problem([0, 1, 10, 11, 2], [1] * 5, 2, min_size=1, max_size=4)
    labels, stats = improve(problem, prepare(problem), 2, [0, 0, 1, 1, 1], deadline=_far())
    assert labels == [0, 0, 1, 1, 0]
    # {0,1,2}: 2 ; {10,11}: 0.5
    assert abs(stats.sse_after - 2.5) < 1e-9


def test_balance_band_blocks_the_improving_swap():
    """Uncrossing would put populations 10+10 vs 1+1, outside ±10 %: nothing moves."""
    problem = _line_problem(
        [0, 1, 10, 11], [10, 10, 1, 1], 2, min_size=2, max_size=2, balance={"population": 0.10}
    )
    start = [0, 1, 0, 1]  # totals 11 and 11: balanced
    labels, stats = improve(problem, prepare(problem), 2, start, deadline=_far())
    assert labels == start
    assert stats.sse_after == stats.sse_before


def test_fixed_and_together_units_never_move():
    """With u0 fixed and u2/u3 together, the only legal improvement is none: labels stay."""
    problem = _line_problem(
        [0, 1, 10, 11], [1] * 4, 2, min_size=2, max_size=2,
        fixed={"u0": "A"}, together=(("u1", "u3"),),
    )
    data = prepare(problem)
    start = [0, 1, 0, 1]
    labels, _ = improve(problem, data, 2, start, deadline=_far())
    assert labels == start


def test_rules_the_search_cannot_keep_switch_it_off():
    """one_region and max_moves are left to CP-SAT; sizes and balance are not."""
    plain = _line_problem([0, 1], [1, 1], 1)
    assert local_search_allowed(plain, prepare(plain))
    regional = dataclasses.replace(plain, rules=dataclasses.replace(plain.rules, one_region=True))
    assert not local_search_allowed(regional, prepare(regional))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(6, 30),
    k=st.integers(2, 4),
)
def test_random_tables_keep_sizes_and_bands_and_never_get_worse(seed, n, k):
    """Random 2-D tables: sizes and ±30 % population still hold, SSE ≤ before and as reported."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    pops = rng.integers(1, 5, size=n).astype(float)
    labels0 = np.arange(n) % k  # round-robin start, sizes within ±1
    totals = np.bincount(labels0, weights=pops, minlength=k)
    tol = max(0.3, float(np.abs(totals / (pops.sum() / k) - 1).max()) + 1e-6)
    lo, hi = n // k, -(-n // k)
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(pops)]
    problem = make_problem(
        make_profiles(rows), n_clusters=k, min_size=lo, max_size=hi, balance={"population": tol}
    )
    problem = dataclasses.replace(
        problem,
        features=FeatureMatrix(values=X, unit_ids=problem.features.unit_ids, feature_names=("a", "b")),
    )
    labels, stats = improve(problem, prepare(problem), k, labels0.tolist(), deadline=_far())
    lab = np.asarray(labels)
    sizes = np.bincount(lab, minlength=k)
    assert sizes.min() >= lo and sizes.max() <= hi
    mean = pops.sum() / k
    t = np.bincount(lab, weights=pops, minlength=k)
    assert np.all(t >= mean * (1 - tol) - 1e-9) and np.all(t <= mean * (1 + tol) + 1e-9)
    assert stats.sse_after <= stats.sse_before + 1e-9
    assert abs(stats.sse_after - sse(X, lab, k)) < 1e-6
    assert len(labels) == n and set(labels) <= set(range(k))


def test_same_input_same_plan():
    """Two runs on one 60-unit table give the same labels (no clock or randomness inside)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(rng.integers(1, 9, 60))]
    problem = make_problem(make_profiles(rows), n_clusters=6, min_size=9, max_size=11)
    problem = _on_features(problem, X)
    start = [i % 6 for i in range(60)]
    first, s1 = improve(problem, prepare(problem), 6, start, deadline=_far())
    second, s2 = improve(problem, prepare(problem), 6, start, deadline=_far())
    assert first == second and s1 == s2
    assert s1.sse_after < s1.sse_before


def test_swaps_evaluated_in_blocks_give_the_same_plan(monkeypatch):
    """Blocks of a few rows (as two 10 000-unit clusters get, for memory) pick the same steps as
    one block: 120 units, 4 clusters of 30, population ±20 %, labels and counts identical."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 3))
    rows = [{"unit_id": f"u{i}", "population": float(p)} for i, p in enumerate(rng.integers(1, 9, 120))]
    problem = make_problem(make_profiles(rows), n_clusters=4, min_size=30, max_size=30,
                           balance={"population": 0.2})
    problem = _on_features(problem, X)
    start = [i % 4 for i in range(120)]
    whole, s_whole = improve(problem, prepare(problem), 4, start, deadline=_far())
    monkeypatch.setattr(local_search, "SWAP_BLOCK", 70)  # 2 rows of a against 30 of b
    blocked, s_blocked = improve(problem, prepare(problem), 4, start, deadline=_far())
    assert s_whole.swaps > 0
    assert blocked == whole and s_blocked == s_whole


def test_neighbour_clusters_from_a_tree_give_the_same_plan(monkeypatch):
    """Past DENSE_CLUSTERS_MAX clusters the neighbours come from a tree (25 000 clusters: the
    k × k matrix took 5 GB and 50 s); on 30 clusters both ways give one plan."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(150, 3))
    rows = [{"unit_id": f"u{i}", "population": 1.0} for i in range(150)]
    problem = make_problem(make_profiles(rows), n_clusters=30, min_size=4, max_size=6)
    problem = _on_features(problem, X)
    start = [i % 30 for i in range(150)]
    whole, s_whole = improve(problem, prepare(problem), 30, start, deadline=_far())
    monkeypatch.setattr(local_search, "DENSE_CLUSTERS_MAX", 0)
    tree, s_tree = improve(problem, prepare(problem), 30, start, deadline=_far())
    assert s_whole.moves + s_whole.swaps > 0
    assert tree == whole and s_tree == s_whole


def test_crossed_pairs_stay_crossed_without_moves_to_spend():
    """The hand-computed swap above moves two units: a budget of 1 forbids it, 2 allows it."""
    problem = _line_problem([0, 1, 10, 11], [1, 1, 1, 1], 2, min_size=2, max_size=2)
    home = np.array([0, 1, 0, 1])
    for budget, sse_after in ((1, 100.0), (2, 1.0)):
        labels, stats = improve(problem, prepare(problem), 2, [0, 1, 0, 1], deadline=_far(),
                                home=home, max_moved=budget)
        assert abs(stats.sse_after - sse_after) < 1e-9


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 40), k=st.integers(2, 5),
       budget=st.integers(0, 12))
def test_move_budget_holds_with_bands_moves_swaps_and_cycles(seed, n, k, budget):
    """Random tables with a ±30 % band (cycles on): never more than ``budget`` units outside
    their home cluster (unknown homes never count), sum of squares never higher."""
    rng = np.random.default_rng(seed)
    problem, X, pops, labels0, tol = _random_banded(rng, n, k)
    home = labels0.copy()
    home[rng.random(n) < 0.2] = -1
    labels, stats = improve(problem, prepare(problem), k, labels0.tolist(), deadline=_far(),
                            home=home, max_moved=budget)
    lab = np.asarray(labels)
    assert int(((home >= 0) & (lab != home)).sum()) <= budget
    assert stats.sse_after <= stats.sse_before + 1e-9


def test_a_move_price_above_the_gain_keeps_the_crossed_pairs():
    """The hand-computed swap gains 99 and moves 2 units from home: priced 60 each it
    loses (99 < 120) and is not taken; priced 40 each it wins (99 > 80)."""
    problem = _line_problem([0, 1, 10, 11], [1, 1, 1, 1], 2, min_size=2, max_size=2)
    home = np.array([0, 1, 0, 1])
    for price, sse_after in ((60.0, 100.0), (40.0, 1.0)):
        _, stats = improve(problem, prepare(problem), 2, [0, 1, 0, 1], deadline=_far(),
                           home=home, move_penalty=price)
        assert abs(stats.sse_after - sse_after) < 1e-9


def test_a_high_move_price_brings_units_home():
    """From the uncrossed plan (SSE 1, both middle units away from home), swapping them
    back costs 99 and saves 2 moves: priced 60 each it is taken, priced 40 it is not."""
    problem = _line_problem([0, 1, 10, 11], [1, 1, 1, 1], 2, min_size=2, max_size=2)
    home = np.array([0, 1, 0, 1])
    for price, labels_after in ((60.0, [0, 1, 0, 1]), (40.0, [0, 0, 1, 1])):
        labels, _ = improve(problem, prepare(problem), 2, [0, 0, 1, 1], deadline=_far(),
                            home=home, move_penalty=price)
        assert labels == labels_after


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 40), k=st.integers(2, 5),
       price=st.floats(0.0, 5.0))
def test_priced_search_never_raises_sse_plus_price_times_moved(seed, n, k, price):
    """Random tables, ±30 % band, random homes (some unknown): the priced objective
    SSE + price × (units away from a known home) never rises; sizes and band hold."""
    rng = np.random.default_rng(seed)
    problem, X, pops, labels0, tol = _random_banded(rng, n, k)
    home = rng.integers(0, k, size=n)
    home[rng.random(n) < 0.2] = -1

    def priced(lab: np.ndarray) -> float:
        return sse(X, lab, k) + price * int(((home >= 0) & (lab != home)).sum())

    labels, _ = improve(problem, prepare(problem), k, labels0.tolist(), deadline=_far(),
                        home=home, move_penalty=price)
    lab = np.asarray(labels)
    assert priced(lab) <= priced(labels0) + 1e-9
    size = np.bincount(lab, minlength=k)
    assert size.min() >= n // k and size.max() <= -(-n // k)
    share = np.bincount(lab, weights=pops, minlength=k) / (pops.sum() / k)
    assert np.all(np.abs(share - 1) <= tol + 1e-9)
