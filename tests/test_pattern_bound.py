"""The small-cluster bound of one balanced column (optimizer/pattern_bound.py).

It must never exceed the best plan (brute force on tiny tables), be tight on
a hand-checked table, and beat the linear band price of
:mod:`optimizer.column_bound` on the clusters of 5–7 units ``cumkhoi init``
proposes — the reason it exists.
"""

from __future__ import annotations

import itertools

import numpy as np
from helpers import balanced_by_total
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import optimizer.pattern_bound as pattern_module
from optimizer.column_bound import column_band_bound, decomposed_bound
from optimizer.pattern_bound import MAX_CLUSTER_SIZE, pattern_bound

PLENTY = 10**12


def _best_plan(z, p, k, lo, hi, band_lo, band_hi):
    """Brute force: the least Σ within-cluster sum of squares on ``z`` and a plan reaching it."""
    best, arg = np.inf, None
    n = len(z)
    for labels in itertools.product(range(k), repeat=n - 1):
        lab = np.array((0, *labels))  # unit 0 in cluster 0: each partition counted fewer times
        counts = np.bincount(lab, minlength=k)
        if counts.min() < lo or counts.max() > hi:
            continue
        totals = np.bincount(lab, weights=p, minlength=k)
        if totals.min() < band_lo or totals.max() > band_hi:
            continue
        means = np.bincount(lab, weights=z, minlength=k) / counts
        cost = float(((z - means[lab]) ** 2).sum())
        if cost < best:
            best, arg = cost, lab
    return best, arg


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(6, 9),
    k=st.integers(2, 3),
    seed=st.integers(0, 10_000),
    tol=st.sampled_from([0.1, 0.3, 0.6, 1.0]),
    monotone=st.booleans(),
)
def test_never_above_the_best_plan(n, k, seed, tol, monotone):
    rng = np.random.default_rng(seed)
    p = np.round(rng.lognormal(3.0, 1.0, n), 1)
    z = np.log1p(p) if monotone else rng.normal(size=n)
    lo, hi = n // k - (n % k == 0), -(-n // k) + 1
    lo = max(lo, 1)
    mean = p.sum() / k
    band_lo, band_hi = mean * (1 - tol), mean * (1 + tol)
    best, plan = _best_plan(z, p, k, lo, hi, band_lo, band_hi)
    assume(plan is not None)
    res = pattern_bound(z, p, k, lo, hi, band_lo, band_hi, plan, max_work=PLENTY)
    assert res.ran
    assert res.value <= best + 1e-9


def test_tight_on_a_hand_checked_table():
    # three units at z=0 (p=1) and three at z=1 (p=10); two clusters of three whose
    # p totals lie in 16.5 ± 30 %: three small ones (3) or three big ones (30) do
    # not fit, so each cluster mixes — {0,0,1} and {0,1,1}, 2/3 each: 4/3 in all
    z = np.array([0.0, 0, 0, 1, 1, 1])
    p = np.array([1.0, 1, 1, 10, 10, 10])
    plan = np.array([0, 0, 1, 0, 1, 1])
    res = pattern_bound(z, p, 2, 3, 3, 16.5 * 0.7, 16.5 * 1.3, plan, max_work=PLENTY)
    # the mean 1/3 is priced from the edge of its cell (cells of width 1/75 here)
    assert 4 / 3 * 0.97 <= res.value <= 4 / 3


def _small_cluster_table(n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = np.round(rng.lognormal(9.5, 0.8, n))
    z = np.log1p(p)
    z = (z - z.mean()) / z.std()
    k = n // 6
    mean = p.sum() / k
    return z, p, k, 5, 7, mean * 0.45, mean * 1.55, balanced_by_total(p, k)


def test_stronger_than_the_linear_band_price_on_small_clusters():
    # 120 units, 20 clusters of 5–7, population ±55 %: measured 15.4 against 9.3
    # (the linear price converged); 3 300 units of `cumkhoi sample`: ~580 against 312
    z, p, k, lo, hi, band_lo, band_hi, plan = _small_cluster_table(120)
    sizes = np.bincount(plan)
    totals = np.bincount(plan, weights=p)
    assert sizes.min() >= lo and sizes.max() <= hi
    assert band_lo <= totals.min() and totals.max() <= band_hi
    ours = pattern_bound(z, p, k, lo, hi, band_lo, band_hi, plan, max_work=2 * 10**9)
    linear = column_band_bound(z, p, k, lo, hi, band_lo, band_hi, plan, max_work=3 * 10**8)
    incumbent = float(((z - (np.bincount(plan, weights=z) / sizes)[plan]) ** 2).sum())
    assert linear.value < ours.value <= incumbent
    assert ours.value >= 1.4 * linear.value
    # deterministic: the work, not the clock, sets the rounds
    assert pattern_bound(z, p, k, lo, hi, band_lo, band_hi, plan, max_work=2 * 10**9) == ours


def test_outside_its_scope_it_leaves_the_column_to_the_other_bound():
    z, p, k, lo, hi, band_lo, band_hi, plan = _small_cluster_table(300)
    big = pattern_bound(z, p, k, lo, MAX_CLUSTER_SIZE + 1, band_lo, band_hi, plan,
                        max_work=PLENTY)
    negative = pattern_bound(z, p - p.mean(), k, lo, hi, band_lo, band_hi, plan,
                             max_work=PLENTY)
    starved = pattern_bound(z, p, k, lo, hi, band_lo, band_hi, plan, max_work=1000)
    for res in (big, negative, starved):
        assert not res.ran and res.value == 0 and res.iterations == 0


def test_the_decomposed_bound_uses_it_for_small_clusters(monkeypatch):
    from optimizer.data import BalanceColumn

    z, p, k, lo, hi, band_lo, band_hi, plan = _small_cluster_table(120)
    x = np.column_stack([z, np.zeros_like(z)])
    column = BalanceColumn(name="population", tol=0.55, values=p, scale=1.0,
                           floor_scaled=np.floor(p), ceil_scaled=np.ceil(p))
    with_it, details = decomposed_bound(x, k, lo, hi, plan, [(0, column)], 0,
                                        max_work=4 * 10**8)
    assert details.get("pattern_bound_iterations", 0) > 0
    monkeypatch.setattr(pattern_module, "MAX_CLUSTER_SIZE", 0)
    without, details = decomposed_bound(x, k, lo, hi, plan, [(0, column)], 0, max_work=4 * 10**8)
    assert "pattern_bound_iterations" not in details
    assert with_it > without > 0


def test_a_late_decomposed_bound_skips_only_the_linear_bound(monkeypatch):
    """``linear_may_start`` says no (the bound's time is gone and the linear bound's first
    step cannot stop): the pattern bound, which stops between rounds, still runs; out of its
    scope the column adds nothing and the details say it was skipped."""
    from optimizer.data import BalanceColumn

    z, p, k, lo, hi, band_lo, band_hi, plan = _small_cluster_table(120)
    x = np.column_stack([z, np.zeros_like(z)])
    column = BalanceColumn(name="population", tol=0.55, values=p, scale=1.0,
                           floor_scaled=np.floor(p), ceil_scaled=np.ceil(p))
    asked: list[int] = []

    def never() -> bool:
        asked.append(1)
        return False

    late, details = decomposed_bound(x, k, lo, hi, plan, [(0, column)], 0,
                                     max_work=4 * 10**8, linear_may_start=never)
    on_time, _ = decomposed_bound(x, k, lo, hi, plan, [(0, column)], 0, max_work=4 * 10**8)
    assert late == on_time > 0 and asked == []
    assert "column_bound_skipped" not in details
    monkeypatch.setattr(pattern_module, "MAX_CLUSTER_SIZE", 0)
    skipped, details = decomposed_bound(x, k, lo, hi, plan, [(0, column)], 0,
                                        max_work=4 * 10**8, linear_may_start=never)
    assert skipped == 0 and asked == [1]
    assert details["column_bound_skipped"] is True and details["column_bound_iterations"] == 0
