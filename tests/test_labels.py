"""Cluster names: the sparse maximum-overlap matching against the dense assignment."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from optimizer.data import ModelData
from optimizer.labels import count_moved, label_partition


def _data(current: list[int], n_groups: int, fixed: list[str | None]) -> ModelData:
    n = len(current)
    return ModelData(
        n=n,
        regions=(None,) * n,
        functions=(frozenset(),) * n,
        neighbors=None,
        blocks=(),
        block_of=(-1,) * n,
        apart=(),
        fixed=tuple(fixed),
        fixed_labels=tuple(dict.fromkeys(f for f in fixed if f is not None)),
        current=tuple(current),
        group_names=tuple(f"G{g}" for g in range(n_groups)),
        balance=(),
    )


def _dense_best_overlap(clusters, data, labels_fixed) -> int:
    """The old way: the whole cluster × group table, assigned densely."""
    k_count = max(clusters) + 1
    free = [k for k in range(k_count) if k not in labels_fixed]
    groups = [
        g
        for g, name in enumerate(data.group_names)
        if name not in labels_fixed.values()
    ]
    if not free or not groups:
        return 0
    table = np.zeros((len(free), len(groups)), dtype=np.int64)
    for i, g in enumerate(data.current):
        k = clusters[i]
        if g >= 0 and k in free and g in groups:
            table[free.index(k), groups.index(g)] += 1
    rows, cols = linear_sum_assignment(table, maximize=True)
    return int(table[rows, cols].sum())


@st.composite
def partitions(draw):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(1, min(n, 12)))
    medoid_of = [draw(st.integers(0, k - 1)) * 7 for _ in range(n)]
    n_groups = draw(st.integers(0, 12))
    current = [draw(st.integers(-1, n_groups - 1)) for _ in range(n)]
    fixed: list[str | None] = [None] * n
    if n_groups and draw(st.booleans()):
        unit = draw(st.integers(0, n - 1))
        fixed[unit] = f"G{draw(st.integers(0, n_groups - 1))}"
        fixed = [fixed[unit] if m == medoid_of[unit] else None for m in medoid_of]
    return medoid_of, _data(current, n_groups, fixed)


@settings(max_examples=300, deadline=None)
@given(partitions())
def test_names_keep_as_many_units_as_the_dense_assignment(case):
    medoid_of, data = case
    clusters, labels = label_partition(medoid_of, data)
    assert len(labels) == len(set(labels)) == max(clusters) + 1
    fixed = {clusters[i]: lab for i, lab in enumerate(data.fixed) if lab is not None}
    for k, lab in fixed.items():
        assert labels[k] == lab
    kept = sum(
        1
        for i, g in enumerate(data.current)
        if g >= 0 and labels[clusters[i]] == f"G{g}"
    )
    fixed_kept = sum(
        1
        for i, g in enumerate(data.current)
        if g >= 0 and clusters[i] in fixed and fixed[clusters[i]] == f"G{g}"
    )
    assert kept - fixed_kept == _dense_best_overlap(clusters, data, fixed)
    assert (
        count_moved(clusters, labels, data) == sum(g >= 0 for g in data.current) - kept
    )
    # as the dense assignment did, a cluster takes an old name whenever one is left
    free_groups = len(data.group_names) - len(set(fixed.values()))
    old_named = sum(
        1 for k, lab in enumerate(labels) if k not in fixed and lab in data.group_names
    )
    assert old_named == min(len(labels) - len(fixed), free_groups)


def test_a_cluster_keeps_the_name_it_shares_most_units_with():
    # clusters {0,1,2} and {3,4}; the first holds two units of G1, the second two of G0
    data = _data([1, 1, 0, 0, 0], 2, [None] * 5)
    clusters, labels = label_partition([0, 0, 0, 3, 3], data)
    assert [labels[k] for k in clusters] == ["G1", "G1", "G1", "G0", "G0"]
    assert count_moved(clusters, labels, data) == 1
