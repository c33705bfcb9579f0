"""The balanced start decomposed by region first when region is a similarity criterion."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from helpers import sample_problem

import optimizer.construct as construct
from optimizer.construct import balanced_start
from optimizer.data import prepare
from optimizer.local_search import sse
from optimizer.rule_groups import region_groups
from optimizer.search import _seed_labels

K = 100
WEIGHTS = {"function": 2.0, "region": 2.0, "location": 1.0, "population": 1.0}


def _problem(n: int, k: int, *, weights=WEIGHTS, lo: int, hi: int, tol: float = 0.3):
    """``cumkhoi init``'s similarity weights by default; sizes lo–hi, population ±tol."""
    problem = sample_problem(n, k, 20.0, weights=weights, balance={"population": tol})
    return dataclasses.replace(
        problem, rules=dataclasses.replace(problem.rules, min_size=lo, max_size=hi))


def _regions(problem) -> np.ndarray:
    return problem.profiles.frame["region"].to_numpy()


def test_groups_never_straddle_regions_and_hold_every_cluster():
    """2 000 units, 250 clusters of 4–12: groups of ≤ 32 clusters, each inside one region."""
    problem = _problem(2000, 250, lo=4, hi=12)
    groups = region_groups(problem, prepare(problem), 250)
    assert groups is not None
    regions = _regions(problem)
    assert sum(g for _, g in groups) == 250
    assert sorted(np.concatenate([idx for idx, _ in groups]).tolist()) == list(range(2000))
    assert all(len(set(regions[idx])) == 1 and g <= 32 for idx, g in groups)
    assert len(groups) > len(set(regions))  # the largest regions were cut


def test_no_region_groups_when_region_is_not_a_criterion_or_cannot_hold_clusters():
    plain = _problem(2000, 100, weights={"function": 1.0, "location": 1.0}, lo=10, hi=30)
    assert region_groups(plain, prepare(plain), 100) is None
    tight = _problem(700, 50, lo=13, hi=15, tol=0.10)  # no split of the regions fits
    assert region_groups(tight, prepare(tight), 50) is None


def test_the_start_keeps_regions_apart_and_is_more_homogeneous(monkeypatch):
    """3 000 units, 100 clusters of 20–40, ±30 %: the start by region is a plan with fewer
    clusters mixing regions (2 against 23: the regrouping across the cuts may still mix
    two where that pays) and a lower sum of squares (1 849.9 against 2 178.9)."""
    problem = _problem(3000, K, lo=20, hi=40)
    data = prepare(problem)
    seed = _seed_labels(problem, K)
    X = np.asarray(problem.features.values, dtype=np.float64)
    regions = _regions(problem)

    def start():
        labels, violation = balanced_start(problem, data, K, seed, time.monotonic() + 60,
                                           seconds=20.0)
        assert violation == 0.0
        labels = np.asarray(labels)
        mixed = sum(len(set(regions[labels == c])) > 1 for c in range(K))
        return sse(X, labels, K), mixed

    by_region, mixed = start()
    monkeypatch.setattr(construct, "region_groups", lambda *a: None)
    before, mixed_before = start()
    assert mixed < mixed_before
    assert by_region < before
