"""Label-independent distances between two plans over the same units.

Cluster numbers are arbitrary (cluster 0 of one plan may be cluster 3 of
another), so every plan-to-plan figure is computed on the contingency table,
matching labels optimally where a matching is needed (Hungarian algorithm,
:func:`scipy.optimize.linear_sum_assignment`). Split from
:mod:`scenarios.compare` (module size), which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from features.types import UnitId

__all__ = ["contingency", "match_labels", "units_to_move", "variation_of_information"]


def contingency(
    a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]
) -> tuple[np.ndarray, list[Any], list[Any]]:
    """Counts of units in (cluster of ``a``, cluster of ``b``), with both label lists.

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
    table = np.zeros((len(labels_a), len(labels_b)), dtype=np.int64)
    for unit, label in a.items():
        table[row[label], col[b[unit]]] += 1
    return table, labels_a, labels_b


def variation_of_information(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> float:
    """Meilă's variation of information H(A|B) + H(B|A), in bits.

    Label-independent and a true metric on partitions: 0 exactly when the
    plans group the units identically, at most ``log2(n_units)``.
    """
    table, _, _ = contingency(a, b)
    n = table.sum()
    if n == 0:
        return 0.0
    p = table / n
    pa = p.sum(axis=1, keepdims=True)
    pb = p.sum(axis=0, keepdims=True)
    nz = p > 0
    ratio = (p * p) / (pa * pb)  # p_ij^2 / (p_i q_j), outer product by broadcasting
    vi = -float(np.sum(p[nz] * np.log2(ratio[nz])))
    return max(0.0, vi)


def match_labels(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> dict[Any, Any]:
    """Map each cluster of ``b`` to the cluster of ``a`` it overlaps best.

    Matching maximises the units kept in place (Hungarian algorithm); clusters
    of ``b`` left unmatched (``b`` has more clusters) map to None.
    """
    table, labels_a, labels_b = contingency(a, b)
    rows, cols = linear_sum_assignment(table, maximize=True)
    mapping: dict[Any, Any] = {label: None for label in labels_b}
    for i, j in zip(rows, cols, strict=True):
        mapping[labels_b[j]] = labels_a[i]
    return mapping


def units_to_move(a: Mapping[UnitId, Any], b: Mapping[UnitId, Any]) -> int:
    """Fewest units that must change cluster to turn plan ``b`` into plan ``a``.

    Equals ``n_units`` minus the largest number of units that can stay put
    under a one-to-one matching of clusters.
    """
    table, _, _ = contingency(a, b)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return int(table.sum() - table[rows, cols].sum())
