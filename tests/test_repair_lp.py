"""The balanced-assignment LP and its helpers shared by the start and the decomposition."""

from __future__ import annotations

import numpy as np

from optimizer.repair import balanced_lp, cluster_means, largest_shares


def test_cluster_means_empty_cluster_is_zero() -> None:
    """Means of clusters 0 and 2; cluster 1 has no member and stays 0."""
    X = np.array([[0.0, 2.0], [2.0, 4.0], [10.0, 10.0]])
    got = cluster_means(X, np.array([0, 0, 2]), 3)
    assert np.allclose(got, [[1.0, 3.0], [0.0, 0.0], [10.0, 10.0]])


def test_largest_shares_ties_go_to_the_first_pair() -> None:
    """Unit 0 splits 0.5/0.5 → its first listed cluster; unit 1 is whole in cluster 1."""
    rows, cols = np.array([0, 0, 1]), np.array([0, 1, 1])
    assert largest_shares(rows, cols, np.array([0.5, 0.5, 1.0]), 2).tolist() == [0, 1]


def test_balanced_lp_meets_the_band() -> None:
    """Values 3,1,1,3, band [4, 4]: the free optimum {0,3}/{1,2} (totals 6/2) is refused; cost 10."""
    n, k = 4, 2
    rows, cols = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
    cost = np.array([0, 5, 5, 0, 5, 0, 0, 5], dtype=float)  # 0,3 → cluster 0; 1,2 → cluster 1
    V = np.array([[3.0], [1.0], [1.0], [3.0]])
    res = balanced_lp(cost, rows, cols, n, k, V, np.array([4.0]), np.array([4.0]), 2, 2)
    assert res.status == 0
    labels = largest_shares(rows, cols, res.x, n)
    totals = np.bincount(labels, weights=V[:, 0], minlength=k)
    assert totals.tolist() == [4.0, 4.0]
    assert np.bincount(labels, minlength=k).tolist() == [2, 2]
    assert res.fun == 10.0  # any band-keeping plan pays 5 for two units


def test_a_step_that_tries_every_cluster_is_charged_for_pairs_not_table_scans() -> None:
    """20 000 units in 5 000 clusters, one cluster over its band for good: the repair tries
    every cluster as a partner ("stuck"). Each try scans the table once (``lab == b``, a
    numpy comparison); charged as 20 000 pair evaluations it cost about 10 nominal s for a few
    tenths of wall time, and at 50 000 units a 30-s solve skipped its whole search."""
    import math

    from optimizer.budget import Clock
    from optimizer.repair import repair_arrays

    rng = np.random.default_rng(0)
    n, k = 20_000, 5_000
    X = rng.normal(size=(n, 2))
    lab = np.arange(n) % k
    V = np.ones((n, 1))
    V[0, 0] = 100.0  # its cluster stays above the band whatever moves
    lo, hi, mean = np.array([0.0]), np.array([10.0]), np.array([4.0])
    clock = Clock(math.inf)
    lab, left, steps = repair_arrays(X, V, lo, hi, mean, 1, 8, lab, k, clock=clock)
    assert left > 0 and steps >= 2  # tried the near clusters, then every cluster
    assert clock.charged_s < 0.5  # 0.10 nominal s for 0.28 s of wall time; 10 nominal s before
