"""The Lagrangian bound of large tables: valid (≤ the brute-force optimum), never weaker than the old one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from features.types import FeatureMatrix
from optimizer import bound as bound_mod
from optimizer import bound_rows
from optimizer.bound import (
    MIN_FACTOR,
    lagrangian_bound,
    lagrangian_value,
    neighbour_count,
    size_window,
    useful_work,
)
from optimizer.lns import full_lower_bound
from optimizer.objective import distance_matrix, pair_distances

WORK = 10**6
#: Enough for a few dozen evaluations on ≤ 7 units (keeps the property tests fast).
SMALL_WORK = 20_000


def _features(values) -> FeatureMatrix:
    values = np.asarray(values, dtype=np.float64)
    return FeatureMatrix(
        values=values,
        unit_ids=tuple(f"u{i}" for i in range(len(values))),
        feature_names=tuple(f"f{j}" for j in range(values.shape[1])),
    )


def _partitions(n: int):
    """Every set partition of range(n) as a restricted-growth label list."""
    def rec(i, labels, used):
        if i == n:
            yield list(labels)
            return
        for c in range(used + 1):
            labels.append(c)
            yield from rec(i + 1, labels, max(used, c + 1))
            labels.pop()

    yield from rec(0, [], 0)


def _cost(features: FeatureMatrix, labels) -> int:
    """Medoid objective with the objective module's pair costs."""
    labels = np.asarray(labels)
    total = 0
    for c in np.unique(labels):
        idx = np.nonzero(labels == c)[0]
        d = pair_distances(features, np.repeat(idx, len(idx)), np.tile(idx, len(idx)))
        total += int(d.reshape(len(idx), len(idx)).sum(axis=0).min())
    return total


def _optimum(
    features: FeatureMatrix, k: int, lo: int, hi: int, band=None,
) -> tuple[int, list[int]]:
    """The brute-force optimum; the fixture must admit a partition."""
    best = _best(features, k, lo, hi, band)
    assert best is not None, "no partition meets the rules"
    return best


def _best(features: FeatureMatrix, k: int, lo: int, hi: int, band=None):
    """Brute force over all partitions into k clusters of sizes lo..hi (and totals in band)."""
    best: tuple[int, list[int]] | None = None
    for labels in _partitions(len(features.values)):
        sizes = np.bincount(labels)
        if len(sizes) != k or sizes.min() < lo or sizes.max() > hi:
            continue
        if band is not None:
            totals = np.bincount(labels, weights=band[0])
            if totals.min() < band[1] or totals.max() > band[2]:
                continue
        cost = _cost(features, labels)
        if best is None or cost < best[0]:
            best = (cost, labels)
    return best


def test_two_pairs_on_a_line_bound_is_the_optimum() -> None:
    """Points 0, 1, 10, 11 in pairs: optimum 2 × 1² × 10 000, and the bound reaches it."""
    f = _features([[0.0], [1.0], [10.0], [11.0]])
    result = lagrangian_bound(f, 2, 2, 2, [0, 0, 1, 1], max_work=WORK)
    assert result.bound == 20_000


def test_size_window_tightens_by_table_size() -> None:
    """10 units in 3 clusters of at most 4: every cluster has at least 2 and at most 4."""
    assert size_window(10, 3, None, 4) == (2, 4)
    assert size_window(10, 3, 3, None) == (3, 4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bound_between_old_bound_and_brute_force_optimum(seed: int) -> None:
    """On 8–9 random units the bound is ≤ the optimum and ≥ the nearest-neighbour bound."""
    rng = np.random.default_rng(seed)
    n, k = 8 + seed % 2, 2 + seed % 2
    f = _features(rng.normal(size=(n, 2)))
    lo, hi = n // k - 1, -(-n // k) + 1
    opt, labels = _optimum(f, k, lo, hi)
    for q in (n - 1, 3):
        result = lagrangian_bound(f, k, lo, hi, labels, max_work=WORK, neighbours=q)
        assert result.bound <= opt
        if q == n - 1:
            assert result.bound >= full_lower_bound(f, k)


def test_bound_reaches_optimum_where_old_bound_is_weak() -> None:
    """Groups {0, 1, 3} at 0, 100, 200: optimum 3 × (1 + 4), old bound 6 × 1; the new one reaches 15."""
    f = _features([[b + x] for b in (0.0, 100.0, 200.0) for x in (0.0, 1.0, 3.0)])
    opt, labels = _optimum(f, 3, 3, 3)
    result = lagrangian_bound(f, 3, 3, 3, labels, max_work=WORK)
    assert opt == 15 * 10_000
    assert full_lower_bound(f, 3) == 6 * 10_000
    assert result.bound == opt


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=4, max_value=7),
    st.integers(min_value=2, max_value=3),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=1, max_value=6),
)
def test_bound_never_exceeds_optimum(n: int, k: int, seed: int, q: int) -> None:
    """Random small tables, any neighbour count and any incumbent: the bound is ≤ the optimum."""
    rng = np.random.default_rng(seed)
    f = _features(np.round(rng.normal(size=(n, 2)), 2))
    lo, hi = max(n // k - 1, 1), -(-n // k) + 1
    opt, _ = _optimum(f, k, lo, hi)
    start = rng.integers(0, k, size=n)
    result = lagrangian_bound(f, k, lo, hi, start, max_work=SMALL_WORK, neighbours=q)
    assert result.bound <= opt


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=8))
def test_truncation_only_lowers_the_value(seed: int, q: int) -> None:
    """At the same multipliers, L(u) with q neighbours ≤ L(u) with every pair exact."""
    rng = np.random.default_rng(seed)
    f = _features(rng.normal(size=(10, 3)))
    u = rng.integers(0, 30_000, size=10).astype(float)
    exact = lagrangian_value(f, 3, 2, 5, u, neighbours=9)
    assert lagrangian_value(f, 3, 2, 5, u, neighbours=q) <= exact


def test_exact_value_matches_hand_formula() -> None:
    """L(0) with every pair exact = k × (cheapest cluster: medoid plus lo−1 nearest)."""
    f = _features([[0.0], [1.0], [3.0], [7.0]])
    d = distance_matrix(f)
    cheapest = min(np.delete(d[:, j], j).min() for j in range(4))
    assert cheapest == 10_000
    assert lagrangian_value(f, 2, 2, 2, np.zeros(4), neighbours=3) == 2 * cheapest


def test_capped_rows_stay_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a max size and rows cut to 2 entries, the bound is still ≤ the optimum."""
    monkeypatch.setattr(bound_rows, "MAX_ROW_WIDTH", 1)
    rng = np.random.default_rng(7)
    f = _features(rng.normal(size=(8, 2)))
    opt, labels = _optimum(f, 2, 1, 7)
    result = lagrangian_bound(f, 2, None, None, labels, max_work=WORK, neighbours=4)
    assert 0 < result.bound <= opt


def test_same_input_same_bound() -> None:
    """Two runs with the same input and allowance give the same result."""
    rng = np.random.default_rng(3)
    f = _features(rng.normal(size=(60, 3)))
    labels = np.arange(60) % 6
    a = lagrangian_bound(f, 6, 9, 11, labels, max_work=300_000, neighbours=20)
    b = lagrangian_bound(f, 6, 9, 11, labels, max_work=300_000, neighbours=20)
    assert a == b
    assert a.iterations > 1


def test_tiny_allowance_still_beats_old_bound() -> None:
    """With almost no work the first evaluation alone already reaches the old bound."""
    rng = np.random.default_rng(4)
    f = _features(rng.normal(size=(40, 2)))
    result = lagrangian_bound(f, 4, 9, 11, np.arange(40) % 4, max_work=1, neighbours=39)
    assert result.iterations == 1
    assert result.bound >= full_lower_bound(f, 4)


def test_no_incumbent_gives_zero() -> None:
    """Without an incumbent plan there is no step target: the bound is 0."""
    f = _features([[0.0], [1.0], [2.0]])
    assert lagrangian_bound(f, 1, None, None, None, max_work=WORK).bound == 0


def test_balance_band_raises_the_bound_and_stays_valid() -> None:
    """Two heavy and four light units, totals within ±10 %: each cluster needs a heavy one.

    Sizes 3: cheapest without balance pairs the heavy units together; the
    balanced bound exceeds the sizes-only optimum and stays ≤ the balanced one.
    """
    f = _features([[0.0], [0.2], [5.0], [5.2], [10.0], [10.2]])
    weights = np.array([9.0, 9.0, 1.0, 1.0, 1.0, 1.0])
    band = (weights, 11.0 * 0.9, 11.0 * 1.1)
    sizes_opt, _ = _optimum(f, 2, 3, 3)
    opt, labels = _optimum(f, 2, 3, 3, band)
    result = lagrangian_bound(f, 2, 3, 3, labels, max_work=WORK, balance=[band])
    assert sizes_opt < result.bound <= opt


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=4, max_value=7),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=1, max_value=6),
    st.floats(min_value=0.05, max_value=0.5),
)
def test_balanced_bound_never_exceeds_balanced_optimum(n: int, seed: int, q: int, tol: float) -> None:
    """Random small tables with a weight band: the bound is ≤ the optimum under the band."""
    rng = np.random.default_rng(seed)
    f = _features(np.round(rng.normal(size=(n, 2)), 2))
    weights = np.round(rng.lognormal(size=n), 2)
    mean = weights.sum() / 2
    band = (weights, mean * (1 - tol), mean * (1 + tol))
    best = _best(f, 2, 1, n, band)
    assume(best is not None)
    opt = best[0]
    start = rng.integers(0, 2, size=n)
    result = lagrangian_bound(f, 2, 1, n, start, max_work=SMALL_WORK, neighbours=q, balance=[band])
    assert result.bound <= opt


def test_balance_grid_only_adds_to_the_value() -> None:
    """At the same multipliers, L(u) with a balance band ≥ L(u) without (μ = 0 is on the grid)."""
    rng = np.random.default_rng(5)
    f = _features(rng.normal(size=(12, 2)))
    u = rng.integers(0, 20_000, size=12).astype(float)
    band = (rng.lognormal(size=12), 1.0, 3.0)
    plain = lagrangian_value(f, 3, 3, 5, u, neighbours=5)
    assert lagrangian_value(f, 3, 3, 5, u, neighbours=5, balance=[band], scale=1e4) >= plain


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_grid_on_few_rows_stays_valid(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Only the cheapest row per cluster tries multipliers: the bound is still ≤ the balanced optimum."""
    monkeypatch.setattr(bound_mod, "GRID_ROWS", 1)
    rng = np.random.default_rng(seed)
    f = _features(rng.normal(size=(8, 2)))
    weights = rng.lognormal(size=8)
    band = (weights, weights.sum() / 2 * 0.7, weights.sum() / 2 * 1.3)
    opt, labels = _optimum(f, 2, 3, 5, band)
    result = lagrangian_bound(f, 2, 3, 5, labels, max_work=SMALL_WORK, neighbours=4, balance=[band])
    assert 0 < result.bound <= opt


def test_same_input_same_balanced_bound() -> None:
    """With a balance band too, two runs give the same result."""
    rng = np.random.default_rng(8)
    f = _features(rng.normal(size=(60, 3)))
    weights = rng.lognormal(size=60)
    band = (weights, weights.sum() / 6 * 0.9, weights.sum() / 6 * 1.1)
    labels = np.arange(60) % 6
    a = lagrangian_bound(f, 6, 9, 11, labels, max_work=300_000, neighbours=20, balance=[band])
    b = lagrangian_bound(f, 6, 9, 11, labels, max_work=300_000, neighbours=20, balance=[band])
    assert a == b
    assert a.iterations > 1


@pytest.mark.slow
def test_large_solve_reports_the_lagrangian_bound_below_its_objective() -> None:
    """200 units, sizes ±1, population ±10 %: the unclamped bound is ≤ the objective and above the old bound."""
    from helpers import sample_problem

    from optimizer.objective import COST_SCALE
    from optimizer.solve import FULL_MODEL_MAX_UNITS, solve

    problem = sample_problem(200, 10, 6.0, with_adjacency=False, balance={"population": 0.10})
    assert problem.profiles.n_units > FULL_MODEL_MAX_UNITS
    plan = solve(problem)
    per_count = plan.details["counts"]["10"]
    assert per_count["bound"] <= per_count["objective"]
    assert per_count["bound"] > full_lower_bound(problem.features, 10) / COST_SCALE


def test_allowance_too_small_for_the_neighbour_search_skips_the_bound() -> None:
    """2 000 units and 1 000 work units: no neighbour search is affordable, the bound is 0 (old one stands)."""
    rng = np.random.default_rng(9)
    f = _features(rng.normal(size=(2000, 3)))
    result = lagrangian_bound(f, 100, 19, 21, np.arange(2000) % 100, max_work=1_000)
    assert result.bound == 0
    assert result.iterations == 0


@pytest.mark.parametrize(("n", "hi"), [(700, 15), (3300, 34), (10_000, 51), (50_000, 101)])
def test_useful_work_buys_the_floor_neighbourhood_for_the_target_steps(n: int, hi: int) -> None:
    """With useful_work the neighbour search fits and the count is at least its floor (or the memory cap)."""
    work = useful_work(n, hi)
    q = neighbour_count(n, hi, work)
    assert q >= min(MIN_FACTOR * hi, neighbour_count(n, hi))


def test_converged_says_whether_more_work_would_have_helped() -> None:
    """Cut short by its allowance the bound is not converged; given plenty, its steps end on their own."""
    rng = np.random.default_rng(5)
    f = _features(rng.normal(size=(60, 3)))
    labels = np.arange(60) % 6
    short = lagrangian_bound(f, 6, 9, 11, labels, max_work=1, neighbours=20)
    assert short.iterations == 1 and not short.converged
    full = lagrangian_bound(f, 6, 9, 11, labels, max_work=10**10, neighbours=20)
    assert full.converged and full.bound >= short.bound
    assert full.work < 10**10  # it stopped itself, not on the allowance
