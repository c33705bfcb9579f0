"""The warm balanced assignment LP (optimizer/band_lp.py) against scipy's cold one."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.band_lp import BandAssignmentLP
from optimizer.repair import largest_shares


def _cold_lp(cost, rows, cols, n, k, V, lo, hi, min_size, max_size):
    """The reference: the same LP built from scratch for scipy's HiGHS (the product's
    LP before the warm model), with each ranged row as two ``≤`` rows."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    m = len(rows)
    var = np.arange(m)
    eq = csr_matrix((np.ones(m), (rows, var)), shape=(n, m))
    A = vstack([csr_matrix((np.ones(m), (cols, var)), shape=(k, m)),
                csr_matrix((V[rows, 0], (cols, var)), shape=(k, m))]).tocsr()
    upper = np.concatenate([np.full(k, float(max_size)), np.full(k, hi[0])])
    lower = np.concatenate([np.full(k, float(min_size)), np.full(k, lo[0])])
    return linprog(cost, A_ub=vstack([A, -A]).tocsr(), b_ub=np.concatenate([upper, -lower]),
                   A_eq=eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")


def _instance(seed: int, n: int = 60, k: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    V = rng.lognormal(size=(n, 1))
    mean = V.sum() / k
    return X, V, np.array([0.8 * mean]), np.array([1.2 * mean])


def _distances(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_warm_rounds_reach_the_cold_optimum_of_each_round(seed: int) -> None:
    """Three rounds of new costs (and arcs added in the second) on one model: each optimum
    is scipy's cold optimum of the same LP, and the shares keep every row."""
    X, V, lo, hi = _instance(seed)
    n, k = len(X), 5
    rng = np.random.default_rng(100 + seed)
    lp = BandAssignmentLP(n, k, V, lo, hi, 10, 14)
    every = (np.repeat(np.arange(n), k), np.tile(np.arange(k), n))
    for round_ in range(3):
        centres = rng.normal(size=(k, 2))
        d = _distances(X, centres)
        if round_ == 0:
            # a sparse first round: each unit's 3 nearest centres and the 20 largest units anywhere
            near = np.argsort(d, axis=1)[:, :3]
            big = np.argsort(-V[:, 0])[:20]
            codes = np.unique(np.concatenate([(np.arange(n)[:, None] * k + near).ravel(),
                                              (big[:, None] * k + np.arange(k)).ravel()]))
            rows, cols = codes // k, codes % k
        else:
            rows, cols = every
        lp.add_arcs(rows, cols)
        got = lp.solve(d)
        assert got.x is not None and not got.timed_out
        cold = _cold_lp(d[got.rows, got.cols], got.rows, got.cols, n, k, V, lo, hi, 10, 14)
        assert cold.status == 0
        assert float(d[got.rows, got.cols] @ got.x) == pytest.approx(cold.fun, rel=1e-7, abs=1e-7)
        shares = np.zeros((n, k))
        np.add.at(shares, (got.rows, got.cols), got.x)
        assert np.allclose(shares.sum(axis=1), 1.0)
        assert np.all(shares.sum(axis=0) >= 10 - 1e-7) and np.all(shares.sum(axis=0) <= 14 + 1e-7)
        totals = shares.T @ V[:, 0]
        assert np.all(totals >= lo[0] - 1e-6) and np.all(totals <= hi[0] + 1e-6)


def test_arcs_are_added_once() -> None:
    """Adding the same arcs twice leaves one column each."""
    X, V, lo, hi = _instance(0, n=10, k=2)
    lp = BandAssignmentLP(10, 2, V, lo, hi, 4, 6)
    rows, cols = np.repeat(np.arange(10), 2), np.tile(np.arange(2), 10)
    lp.add_arcs(rows, cols)
    lp.add_arcs(rows[:7], cols[:7])
    assert lp.n_arcs == 20


def test_an_infeasible_lp_gives_no_shares() -> None:
    """Values 3,1,1,3 in two clusters of 2 cannot total 5 each (the sum is 8)."""
    V = np.array([[3.0], [1.0], [1.0], [3.0]])
    lp = BandAssignmentLP(4, 2, V, np.array([5.0]), np.array([5.0]), 2, 2)
    lp.add_arcs(np.repeat(np.arange(4), 2), np.tile(np.arange(2), 4))
    got = lp.solve(np.zeros((4, 2)))
    assert got.x is None and not got.timed_out


def test_the_band_is_kept_and_open_ends_are_allowed() -> None:
    """The scipy test's table (values 3,1,1,3, band [4, 4]) costs 10; with only an upper
    end (lo = −inf) the free optimum {0,3}/{1,2} would total 6 > 4, so the upper end alone
    still forces the cost-10 plan, and with no band at all the cost is 0."""
    n, k = 4, 2
    rows, cols = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    d = np.array([[0, 5], [5, 0], [5, 0], [0, 5]], dtype=float)
    V = np.array([[3.0], [1.0], [1.0], [3.0]])
    for lo, hi, cost in (([4.0], [4.0], 10.0), ([-np.inf], [4.0], 10.0), ([-np.inf], [np.inf], 0.0)):
        lp = BandAssignmentLP(n, k, V, np.array(lo), np.array(hi), 2, 2)
        lp.add_arcs(rows, cols)
        got = lp.solve(d)
        assert got.x is not None
        assert float(d[got.rows, got.cols] @ got.x) == pytest.approx(cost)
        labels = largest_shares(got.rows, got.cols, got.x, n)
        assert np.bincount(labels, minlength=k).tolist() == [2, 2]


def test_the_same_rounds_give_the_same_iterations() -> None:
    """Work is counted in simplex iterations, so the same rounds must count the same."""
    X, V, lo, hi = _instance(3)
    n, k = len(X), 5
    counts = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        lp = BandAssignmentLP(n, k, V, lo, hi, 10, 14)
        lp.add_arcs(np.repeat(np.arange(n), k), np.tile(np.arange(k), n))
        counts.append([lp.solve(_distances(X, rng.normal(size=(k, 2)))).iterations for _ in range(3)])
    assert counts[0] == counts[1]


def test_each_round_gets_its_own_time_limit() -> None:
    """HiGHS's time limit counts the instance's whole run time: rounds of a reused model,
    each far within the limit but together past it, must all be solved (the first version
    passed the limit as is, and every round after ~0.5 s of solving timed out)."""
    rng = np.random.default_rng(0)
    n, k = 400, 30
    X = rng.normal(size=(n, 3))
    V = rng.lognormal(size=(n, 1))
    mean = V.sum() / k
    lp = BandAssignmentLP(n, k, V, np.array([0.9 * mean]), np.array([1.1 * mean]), 12, 15)
    lp.add_arcs(np.repeat(np.arange(n), k), np.tile(np.arange(k), n))
    limit, rounds = 0.5, 0
    while lp.h.getRunTime() < 1.5 * limit and rounds < 200:
        got = lp.solve(_distances(X, rng.normal(size=(k, 3))), time_limit=limit)
        assert got.x is not None and not got.timed_out, f"round {rounds} stopped by the limit"
        rounds += 1
    assert lp.h.getRunTime() >= 1.5 * limit  # the rounds together did pass the limit
