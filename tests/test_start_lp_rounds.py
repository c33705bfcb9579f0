"""The balanced start's improving LP rounds run only for clusters of LP_MIN_MEAN_SIZE+ units.

Why a rule on cluster size: at 3 300 units in clusters of 6–13 the rounds took
11–25 s of a 30 s limit and left plans 6–45 % costlier than the local search and
annealing reach in that time; from clusters of ~16 they pay (optimizer/construct.py).
"""

from __future__ import annotations

import time

import pytest
from helpers import sample_problem

import optimizer.construct as construct
from optimizer.construct import LP_MIN_MEAN_SIZE, balanced_start
from optimizer.data import prepare
from optimizer.search import _seed_labels


def _improving_rounds(monkeypatch, n: int, k: int) -> list[int]:
    """Runs the start and returns the size of each improving LP call's plan in hand."""
    problem = sample_problem(n, k, 10.0, balance={"population": 1.0})
    data = prepare(problem)
    # the dense LP start would return first at this size; the improving rounds follow
    # the dealing's plan, as they do beyond LP_MAX_PAIRS (3 300 units in 550 clusters)
    monkeypatch.setattr(construct, "LP_MAX_PAIRS", 0)
    calls: list[int] = []
    real = construct.lp_balanced

    def recording(*args, keep=None, **kwargs):
        if keep is not None:
            calls.append(len(keep))
        return real(*args, keep=keep, **kwargs)

    monkeypatch.setattr(construct, "lp_balanced", recording)
    labels, violation = balanced_start(problem, data, k, _seed_labels(problem, k),
                                       time.monotonic() + 30, seconds=5.0)
    assert violation == 0.0 and len(labels) == n
    return calls


@pytest.mark.parametrize(("n", "k", "expected"), [
    (300, 50, []),         # mean size 6: the local search and annealing get the time
    (300, 12, [300]),      # mean size 25: the rounds improve the dealing's plan
])
def test_improving_rounds_only_for_large_clusters(monkeypatch, n, k, expected):
    assert (n / k >= LP_MIN_MEAN_SIZE) == bool(expected)
    assert _improving_rounds(monkeypatch, n, k) == expected
