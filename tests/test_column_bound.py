"""The balanced column's bound: never above the brute-force optimum, alone or in the decomposition."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_problem, make_profiles
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.bound import lagrangian_bound
from optimizer.column_bound import (
    CELLS,
    MIN_CELLS,
    balanced_feature_columns,
    cells_for,
    column_band_bound,
    decomposed_bound,
    incumbent_value,
    other_columns,
)
from optimizer.data import prepare
from optimizer.objective import medoid_dispersion
from optimizer.seed import features_in_unit_order

WORK = 2_000_000


def _labelings(n: int, k: int):
    """Every labelling of range(n) with exactly k clusters, in restricted-growth form."""
    def rec(i, labels, used):
        if i == n:
            if used == k:
                yield list(labels)
            return
        for c in range(min(used + 1, k)):
            labels.append(c)
            yield from rec(i + 1, labels, max(used, c + 1))
            labels.pop()
    yield from rec(0, [], 0)


def _feasible(labels, k, lo, hi, p, band_lo, band_hi) -> bool:
    lab = np.asarray(labels)
    sizes = np.bincount(lab, minlength=k)
    totals = np.bincount(lab, weights=p, minlength=k)
    return bool(np.all((sizes >= lo) & (sizes <= hi) & (totals >= band_lo) & (totals <= band_hi)))


def test_cells_follow_the_work() -> None:
    """Few cells when the work buys few evaluations, all of them when it buys plenty."""
    n = 10_000
    assert cells_for(10**6, n) == MIN_CELLS
    assert cells_for(10**15, n) == CELLS
    middle = cells_for(4 * n * 1000 * 100, n)
    assert MIN_CELLS < middle < CELLS
    assert cells_for(4 * n * 1000 * 101, n) >= middle


def test_incumbent_value_by_hand() -> None:
    """Clusters {0, 2} and {10, 10, 13}: sums of squares 2 and 6."""
    value, own = incumbent_value(np.array([0.0, 2.0, 10.0, 10.0, 13.0]), np.array([4, 4, 1, 1, 1]))
    assert value == pytest.approx(8.0)
    assert own == pytest.approx([1.0, 1.0, 1.0, 1.0, 4.0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.integers(5, 8), st.integers(2, 3), st.integers(0, 10_000), st.floats(0.05, 0.6))
def test_never_above_the_one_column_optimum(n: int, k: int, seed: int, tol: float) -> None:
    """Tiny tables, every feasible plan enumerated: bound ≤ the best plan's sum of squares."""
    assume(n >= 2 * k)
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n) * rng.uniform(0.5, 3.0)
    p = rng.lognormal(0.0, 1.0, size=n)
    mean = p.sum() / k
    band_lo, band_hi = mean * (1 - tol), mean * (1 + tol)
    lo, hi = n // k - 1, -(-n // k) + 1
    best, best_labels = np.inf, None
    for labels in _labelings(n, k):
        if _feasible(labels, k, lo, hi, p, band_lo, band_hi):
            value, _ = incumbent_value(z, np.asarray(labels))
            if value < best:
                best, best_labels = value, labels
    assume(best_labels is not None)
    res = column_band_bound(z, p, k, lo, hi, band_lo, band_hi, np.asarray(best_labels),
                            max_work=WORK, cells=8)
    assert res.iterations > 0
    assert res.value <= best + 1e-9


def test_the_band_raises_the_bound() -> None:
    """Two tight groups whose totals are unbalanced: the band forces mixing, and the bound sees it.

    Units 0–2 have z ≈ 0 and p = 4, units 3–5 z ≈ 10 and p = 8; clusters of 3
    within ±20 % of 18 must hold two of one group and one of the other (16 or
    20), so every feasible plan pays ~133, where like-with-like would pay 0.04.
    """
    z = np.array([0.0, 0.1, 0.2, 10.0, 10.1, 10.2])
    p = np.array([4.0, 4.0, 4.0, 8.0, 8.0, 8.0])
    band = (0.8 * 18, 1.2 * 18)
    labels = np.array([0, 0, 1, 0, 1, 1])  # totals 16 and 20
    optimum = min(incumbent_value(z, np.asarray(lab))[0] for lab in _labelings(6, 2)
                  if _feasible(lab, 2, 3, 3, p, *band))
    banded = column_band_bound(z, p, 2, 3, 3, *band, labels, max_work=WORK)
    loose = column_band_bound(z, p, 2, 3, 3, 0.0, 100.0, np.array([0, 0, 0, 1, 1, 1]),
                              max_work=WORK)
    assert optimum > 100.0
    assert loose.value <= 0.04 + 1e-9
    assert 10.0 < banded.value <= optimum + 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.integers(6, 8), st.integers(0, 10_000), st.floats(0.1, 0.5))
def test_decomposition_never_above_the_objective_optimum(n: int, seed: int, tol: float) -> None:
    """The whole chain on a real Problem: column bound + the rest's Lagrangian − n ≤ best plan's objective."""
    rng = np.random.default_rng(seed)
    rows = [{"unit_id": f"u{i}", "population": float(rng.lognormal(10, 1)),
             "budget": float(rng.normal(100, 30))} for i in range(n)]
    k = 2
    lo, hi = n // k - 1, -(-n // k) + 1
    problem = make_problem(make_profiles(rows), weights={"population": 1.0, "budget": 1.0},
                           n_clusters=k, min_size=lo, max_size=hi, balance={"population": tol})
    data = prepare(problem)
    columns = balanced_feature_columns(problem, data)
    assert [col.name for _, col in columns] == ["population"]
    band_lo, band_hi = data.balance[0].band(k)
    p = data.balance[0].values
    best, best_labels = np.inf, None
    for labels in _labelings(n, k):
        if _feasible(labels, k, lo, hi, p, band_lo, band_hi):
            cost = medoid_dispersion(problem.features, labels)
            if cost < best:
                best, best_labels = cost, labels
    assume(best_labels is not None)
    x = features_in_unit_order(problem)
    rest = lagrangian_bound(other_columns(x, columns), k, lo, hi, best_labels,
                            max_work=WORK, neighbours=n - 1)
    bound, details = decomposed_bound(x, k, lo, hi, best_labels, columns, rest.bound,
                                      max_work=WORK)
    assert details["column_bound_iterations"] > 0
    assert bound <= best


@settings(max_examples=80, deadline=None)
@given(st.integers(4, 8), st.integers(0, 10_000), st.floats(0.05, 0.8))
def test_each_cell_value_bounds_its_cheapest_balanced_set(n: int, seed: int, tol: float) -> None:
    """For any multipliers, a cell's value ≤ the cheapest set of lo..hi units whose total fits the band.

    This is the inequality the whole bound rests on (weak duality in the band
    multiplier, and dropping the band only after pricing it), checked against
    every subset.
    """
    from itertools import combinations

    from optimizer.column_bound import _cheapest, band_edge

    rng = np.random.default_rng(seed)
    cost = rng.uniform(0.0, 5.0, size=(3, n))
    u = rng.normal(0.0, 2.0, size=n)
    q = rng.lognormal(0.0, 1.0, size=n)
    lo, hi = 2, min(4, n)
    mean = q.sum() / (n / 3)
    blo, bhi = mean * (1 - tol), mean * (1 + tol)
    grid = np.array([0.0] + [s * 2.0 ** j for j in range(-3, 5) for s in (1.0, -1.0)])
    tried = np.broadcast_to(np.arange(len(grid)), (3, len(grid)))
    edge = band_edge(grid, blo, bhi)
    per_cell, _, _ = _cheapest(cost, u, grid[tried], q, edge[tried], lo, hi)
    for g in range(3):
        best = min((sum(cost[g, i] - u[i] for i in s) for m in range(lo, hi + 1)
                    for s in combinations(range(n), m) if blo <= q[list(s)].sum() <= bhi),
                   default=np.inf)
        assert per_cell[g] <= best + 1e-9
