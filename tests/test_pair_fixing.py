"""Reduced-cost fixing never drops a pair that a plan cheaper than the bound uses."""

from __future__ import annotations

from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.pair_fixing import lagrangian_fixing


def _plans(cost: np.ndarray, k: int, lo: int, hi: int):
    """Every (unit -> medoid) plan with k clusters of lo..hi units, and its cost."""
    n = len(cost)
    for labels in product(range(k), repeat=n):
        if sorted(set(labels)) != list(range(k)) or any(
            labels.index(c) > labels.index(c + 1) for c in range(k - 1)
        ):
            continue  # canonical numbering only
        groups = [[i for i in range(n) if labels[i] == c] for c in range(k)]
        if any(not lo <= len(g) <= hi for g in groups):
            continue
        for medoids in product(*groups):
            medoid_of = {i: medoids[labels[i]] for i in range(n)}
            yield medoid_of, int(sum(cost[i, medoid_of[i]] for i in range(n)))


def test_drops_far_pair_keeps_incumbent():
    """Two tight pairs far apart: joining across costs ≥ 9 and is dropped."""
    pts = np.array([0, 1, 10, 11])
    cost = np.abs(pts[:, None] - pts[None, :]).astype(float)
    keep = {0: 0, 1: 0, 2: 2, 3: 2}
    res = lagrangian_fixing(cost, 2, 2, 2, 2, keep)
    assert (2, 0) in res.drop_pairs and (0, 2) in res.drop_pairs
    assert (1, 0) not in res.drop_pairs and 0 not in res.drop_medoids
    assert res.bound == 2


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 6),
    k=st.integers(2, 3),
    data=st.data(),
)
def test_no_pair_of_a_cheaper_plan_is_dropped(n, k, data):
    """Brute force: every pair and medoid of a plan costing < upper survives."""
    if k >= n:
        k = 2
    pts = np.array(data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
    cost = np.abs(pts[:, None] - pts[None, :]).astype(float)
    lo = data.draw(st.integers(1, n // k))
    hi = data.draw(st.integers(lo, n))
    plans = list(_plans(cost, k, lo, hi))
    if not plans:
        return
    costs = sorted({c for _, c in plans})
    upper = data.draw(st.sampled_from(costs))
    keep = next(p for p, c in plans if c == upper)
    res = lagrangian_fixing(cost, k, lo, hi, upper, keep)
    dropped = set(res.drop_pairs)
    assert res.bound <= costs[0]
    for plan, c in plans:
        if c < upper or plan == keep:
            assert not dropped & set(plan.items())
            assert not set(res.drop_medoids) & set(plan.values())
