"""benchmarks/pop_lp.py: the population part's set-partitioning floor is a lower bound, and a tight one."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``benchmarks`` is a directory of scripts, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.pop_lp import partition_floor, within_ss  # noqa: E402
from optimizer.column_bound import column_band_bound  # noqa: E402


def brute_force(z, p, lo, hi, band_lo, band_hi):
    """Best 2-cluster plan by enumeration: (cost, labels) or None."""
    n, best = len(z), None
    for r in range(lo, hi + 1):
        for first in itertools.combinations(range(n), r):
            a = np.array(first)
            b = np.setdiff1d(np.arange(n), a)
            if not lo <= len(b) <= hi:
                continue
            if not all(band_lo <= p[s].sum() <= band_hi for s in (a, b)):
                continue
            cost = within_ss(z, a) + within_ss(z, b)
            if best is None or cost < best[0]:
                labels = np.zeros(n, dtype=np.int64)
                labels[b] = 1
                best = (cost, labels)
    return best


def test_two_big_units_must_split_and_the_floor_sees_it() -> None:
    """Four small units (population 1, z ≈ 0) and two big ones (5, z ≈ 3), 2 clusters of 3, totals 7 ± 1 %.

    Every plan puts one big and two small units in each cluster: cost 6 a
    cluster, 12 in all. Dualising the band inside a cluster lets a cluster of
    three small units (total 3) average with one of two big units (total 11)
    to 7, at half the cost: the product's bound stays near 6, the
    partitioning LP with exact pricing reaches the optimum.
    """
    z = np.array([0.0, 0.01, 0.02, 0.03, 3.0, 3.01])
    p = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.0])
    start = np.array([0, 0, 1, 1, 0, 1])
    optimum = within_ss(z, np.array([0, 1, 4])) + within_ss(z, np.array([2, 3, 5]))
    floor = partition_floor(z, p, 2, 3, 3, 6.93, 7.07, start, cells=400)
    assert floor.bound <= optimum + 1e-9
    assert floor.bound >= 0.95 * optimum
    product = column_band_bound(z, p, 2, 3, 3, 6.93, 7.07, start, max_work=10**8)
    assert product.value < 0.7 * optimum


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_floor_never_exceeds_the_brute_force_optimum(seed: int) -> None:
    """Random tables of 9 units, 2 clusters of 4–5, ±25 % band: bound ≤ optimum ≤ start plan; LP ≥ bound."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=9)
    p = np.round(rng.lognormal(2.0, 0.8, size=9), 2)
    mean = p.sum() / 2
    band = (0.75 * mean, 1.25 * mean)
    best = brute_force(z, p, 4, 5, *band)
    if best is None:
        return  # no plan meets the rules: nothing to bound
    optimum, labels = best
    floor = partition_floor(z, p, 2, 4, 5, *band, labels, cells=12, weight_cells=64)
    assert floor.bound <= optimum + 1e-9
    assert floor.lp >= floor.bound - 1e-6


def test_a_start_plan_that_breaks_the_band_is_refused() -> None:
    """The master needs a feasible start; one outside the band is an error, not a wrong floor."""
    z = np.arange(4, dtype=float)
    p = np.array([1.0, 1.0, 1.0, 9.0])
    with pytest.raises(ValueError, match="band"):
        partition_floor(z, p, 2, 2, 2, 5.5, 6.5, np.array([0, 0, 1, 1]))
