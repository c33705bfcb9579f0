"""Label-independent distances between two plans over the same units.

Cluster numbers are arbitrary (cluster 0 of one plan may be cluster 3 of
another), so every plan-to-plan figure is computed on the contingency table,
matching labels optimally where a matching is needed (a minimum-weight full
matching on the table's nonzero cells,
:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`). Split from
:mod:`scenarios.compare` (module size), which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from features.types import UnitId

__all__ = ["contingency", "match_labels", "units_to_move", "variation_of_information"]


def _overlaps(
    a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]
) -> tuple[list[Any], list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """The contingency table's nonzero cells: both label lists, then row, column, count.

    Why not the dense table: two 50 000-unit plans of 8 333 clusters each make
    a 8 333 × 8 333 table (555 MB as int64, and the information sums built
    three more of its size: `cumkhoi compare` peaked at 2.7 GB), while at most
    one cell per unit is nonzero.

    Raises
    ------
    ValueError
        If the two plans do not cover the same units (comparing plans of
        different unit tables is meaningless).
    """
    if set(a) != set(b):
        raise ValueError("plans cover different units")
    labels_a = sorted(set(a.values()), key=str)
    labels_b = sorted(set(b.values()), key=str)
    row = {label: i for i, label in enumerate(labels_a)}
    col = {label: j for j, label in enumerate(labels_b)}
    n = len(a)
    rows = np.fromiter((row[label] for label in a.values()), dtype=np.int64, count=n)
    cols = np.fromiter((col[b[unit]] for unit in a), dtype=np.int64, count=n)
    cells, counts = np.unique(rows * len(labels_b) + cols, return_counts=True)
    return labels_a, labels_b, cells // len(labels_b), cells % len(labels_b), counts


def contingency(
    a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]
) -> tuple[np.ndarray, list[Any], list[Any]]:
    """Counts of units in (cluster of ``a``, cluster of ``b``), with both label lists.

    Dense, for reading small cases; the distances below work on the nonzero
    cells only. Raises ``ValueError`` if the plans cover different units.
    """
    labels_a, labels_b, rows, cols, counts = _overlaps(a, b)
    table = np.zeros((len(labels_a), len(labels_b)), dtype=np.int64)
    table[rows, cols] = counts
    return table, labels_a, labels_b


def variation_of_information(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> float:
    """Meilă's variation of information H(A|B) + H(B|A), in bits.

    Label-independent and a true metric on partitions: 0 exactly when the
    plans group the units identically, at most ``log2(n_units)``.
    """
    labels_a, labels_b, rows, cols, counts = _overlaps(a, b)
    n = counts.sum()
    if n == 0:
        return 0.0
    p = counts / n
    pa = np.bincount(rows, weights=p, minlength=len(labels_a))
    pb = np.bincount(cols, weights=p, minlength=len(labels_b))
    vi = -float(np.sum(p * np.log2(p * p / (pa[rows] * pb[cols]))))
    return max(0.0, vi)


def _kept_matching(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_a: int, n_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """A one-to-one matching of clusters keeping the most units: (rows, columns) of its cells.

    The Hungarian algorithm on the dense table (what this replaces) needs the
    whole table; here the sparse solver gets a graph that always has a full
    matching: each cluster of ``a`` may go to a stand-in of its own, each
    cluster of ``b`` likewise, and for every nonzero cell (i, j) the stand-ins
    of i and j may pair up — so any matching of nonzero cells completes, and
    with every other edge at the same price the cheapest full matching is the
    one whose real cells keep the most units. Only nonzero cells are matched;
    a zero-overlap pair keeps nobody, so the units kept equal the dense optimum.
    """
    if len(counts) == 0:
        return rows[:0], cols[:0]
    edges = len(counts)
    price = float(counts.max()) + 1.0  # every weight ≥ 1: the solver drops zeros
    graph = coo_array(
        (
            np.concatenate([price - counts, np.full(n_a + n_b + edges, price)]),
            (
                np.concatenate([rows, np.arange(n_a), n_a + np.arange(n_b), n_a + cols]),
                np.concatenate([cols, n_b + np.arange(n_a), np.arange(n_b), n_b + rows]),
            ),
        ),
        shape=(n_a + n_b, n_b + n_a),
    ).tocsr()
    left, right = min_weight_full_bipartite_matching(graph)
    real = (left < n_a) & (right < n_b)
    return left[real], right[real]


def match_labels(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> dict[Any, Any]:
    """Map each cluster of ``b`` to the cluster of ``a`` it overlaps best.

    Matching maximises the units kept in place; clusters left over on both
    sides (no overlap with any free partner) are then paired in label order, so
    every cluster of ``b`` gets one while ``a`` has clusters left, as with the
    Hungarian algorithm on the dense table; the rest (``b`` has more clusters)
    map to None.
    """
    labels_a, labels_b, rows, cols, counts = _overlaps(a, b)
    left, right = _kept_matching(rows, cols, counts, len(labels_a), len(labels_b))
    mapping: dict[Any, Any] = {label: None for label in labels_b}
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        mapping[labels_b[j]] = labels_a[i]
    free_a = sorted(set(range(len(labels_a))) - set(left.tolist()))
    free_b = sorted(set(range(len(labels_b))) - set(right.tolist()))
    for i, j in zip(free_a, free_b, strict=False):
        mapping[labels_b[j]] = labels_a[i]
    return mapping


def units_to_move(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> int:
    """Fewest units that must change cluster to turn plan ``b`` into plan ``a``.

    Equals ``n_units`` minus the largest number of units that can stay put
    under a one-to-one matching of clusters.
    """
    labels_a, labels_b, rows, cols, counts = _overlaps(a, b)
    left, right = _kept_matching(rows, cols, counts, len(labels_a), len(labels_b))
    # the cells come sorted by (row, column) code, and the matching uses only them
    codes = rows * len(labels_b) + cols
    kept = counts[np.searchsorted(codes, left * len(labels_b) + right)].sum()
    return int(counts.sum() - kept)
