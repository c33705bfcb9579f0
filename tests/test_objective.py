"""optimizer.objective.central_members: the medoid sums without a cluster's whole pair matrix."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import objective
from optimizer.objective import central_members, pair_distances


def _brute(values: np.ndarray, members: list[int], count: int) -> tuple[list[int], list[int]]:
    """Column sums of the whole pair matrix, smallest first, ties in table order."""
    idx = np.asarray(sorted(members), dtype=np.int64)
    m = len(idx)
    sums = pair_distances(values, np.repeat(idx, m), np.tile(idx, m)).reshape(m, m).sum(axis=0)
    order = np.argsort(sums, kind="stable")[:count]
    return idx[order].tolist(), sums[order].tolist()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 80),
    d=st.integers(1, 6),
    count=st.integers(1, 5),
    offset=st.sampled_from([0.0, 1e3, 1e6]),
    repeats=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_screened_sums_equal_the_whole_matrix(n, d, count, offset, repeats, seed):
    """Forced through the screening path (tiny chunks), ids and integer sums are those of the
    brute-force matrix: far from the origin (cancellation), with repeated rows (ties)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, d)) * rng.choice([0.01, 1.0, 30.0]) + offset
    if repeats:
        values[rng.integers(0, n, n // 2)] = values[0]
    members = sorted(rng.choice(n, size=rng.integers(1, n + 1), replace=False).tolist())
    want = _brute(values, members, count)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(objective, "WHOLE_MATRIX_MAX_MEMBERS", 0)
        patch.setattr(objective, "PAIR_CHUNK", 7)
        ids, sums = central_members(values, members[::-1], count)
    assert (ids.tolist(), sums.tolist()) == want
    ids, sums = central_members(values, members, count)  # the whole-matrix path agrees
    assert (ids.tolist(), sums.tolist()) == want


def test_a_large_cluster_is_summed_for_a_few_candidates_only(monkeypatch):
    """2 000 members: the screening leaves a handful of columns to sum pair by pair, not 2 000
    (the whole matrix would be 4 M pairs), and the medoid is the brute-force one."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=(2000, 12))
    summed: list[int] = []
    real = objective.pair_distances

    def counting(features, rows, cols):
        summed.append(len(rows))
        return real(features, rows, cols)

    monkeypatch.setattr(objective, "pair_distances", counting)
    (medoid,), (cost,) = central_members(values, range(2000))
    assert sum(summed) <= 20 * 2000
    monkeypatch.setattr(objective, "pair_distances", real)
    assert ([medoid], [cost]) == _brute(values, list(range(2000)), 1)


def test_count_larger_than_the_cluster_returns_every_member():
    values = np.array([[0.0], [1.0], [5.0]])
    ids, sums = central_members(values, [2, 0, 1], 10)
    assert ids.tolist() == [1, 0, 2]
    assert sums.tolist() == [170_000, 260_000, 410_000]


def test_two_clusters_of_ten_thousand_stay_small_in_memory():
    """The case that was killed for memory: medoids of 10 000-unit clusters (20 000 units,
    K = 2). The whole pair matrix would hold 10⁸ pairs (~14 GB of differences); numpy's
    allocations, traced, now peak under 100 MB, and the cost is the medoid's own sum."""
    rng = np.random.default_rng(2)
    values = rng.normal(size=(20_000, 18))
    tracemalloc.start()
    try:
        found = [central_members(values, half) for half in (range(10_000), range(10_000, 20_000))]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100e6
    for half, ((medoid,), (cost,)) in zip((range(10_000), range(10_000, 20_000)), found):
        assert int(pair_distances(values, np.asarray(half), np.full(10_000, medoid)).sum()) == cost
