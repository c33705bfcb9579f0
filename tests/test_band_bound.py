"""optimizer.band_bound: the band-aware Lagrangian never exceeds the brute-force optimum."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pair_fixing import _plans

from optimizer.band_bound import band_lagrangian_bound


def _in_band(plan: dict[int, int], ceil_v: np.ndarray, floor_v: np.ndarray, lo: int, hi: int) -> bool:
    for m in set(plan.values()):
        members = [i for i, mm in plan.items() if mm == m]
        if ceil_v[members].sum() > hi or floor_v[members].sum() < lo:
            return False
    return True


def test_band_forces_a_costlier_plan_and_the_bound_sees_it():
    """Line 0,1,10,11 with weights 1,1,5,5 and band 5..7: the cheap pairs {0,1},{10,11} break it."""
    cost = np.abs(np.subtract.outer([0, 1, 10, 11], [0, 1, 10, 11])).astype(float)
    w = np.array([1, 1, 5, 5])
    # only {0,10}/{1,11} or {0,11}/{1,10} fit the band: each costs 10 + 10
    bound = band_lagrangian_bound(cost, 2, 2, 2, w, w, 5, 7, upper=20, width=7).bound
    assert 2 < bound <= 20


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 6), data=st.data())
def test_never_above_the_optimum(n, data):
    """Brute force over every plan meeting sizes and the band: bound ≤ its cheapest."""
    k = 2
    pts = np.array(data.draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
    cost = np.abs(pts[:, None] - pts[None, :]).astype(float)
    ceil_v = np.array(data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n)))
    floor_v = ceil_v - np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    floor_v = np.maximum(floor_v, 0)
    total = int(ceil_v.sum())
    band_lo = data.draw(st.integers(0, max(total // 2, 0)))
    band_hi = band_lo + data.draw(st.integers(0, total))
    lo = data.draw(st.integers(1, n // k))
    hi = data.draw(st.integers(lo, n - lo))
    feasible = [c for p, c in _plans(cost, k, lo, hi) if _in_band(p, ceil_v, floor_v, band_lo, band_hi)]
    if not feasible:
        return
    width = data.draw(st.sampled_from([3, 10, 300]))
    best = min(feasible)
    res = band_lagrangian_bound(cost, k, lo, hi, ceil_v, floor_v, band_lo, band_hi,
                                upper=best + 1, iterations=30, width=width)
    assert res.bound <= best
    # no medoid of a cheapest plan is closed (upper is above its cost)
    for plan, c in _plans(cost, k, lo, hi):
        if c == best and _in_band(plan, ceil_v, floor_v, band_lo, band_hi):
            assert not set(plan.values()) & set(res.closed)
