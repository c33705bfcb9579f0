"""The few smallest entries of each row, exactly as a stable sort orders them.

Candidate medoids per unit and neighbour clusters per cluster need each row's
``count`` smallest columns, ties by column. ``np.argsort(kind="stable")`` sorts
whole rows for that: 10 000 units × 3 750 candidate medoids took 2.3 s, which
the time limit could not stop (a 5-s check of 10 000 units in 1 250 clusters
ended at 7.7 s). A partition finds each row's ``count``-th value in linear
time; only the entries up to it are sorted.
"""

from __future__ import annotations

import numpy as np


def smallest_columns(matrix: np.ndarray, count: int) -> np.ndarray:
    """Row-wise ``np.argsort(matrix, axis=1, kind="stable")[:, :count]``, faster.

    Same result, ties included (equal values keep column order); ``matrix``
    holds no NaN (``inf`` is fine). Rows × ``count`` integer array.
    """
    n_rows, n_cols = matrix.shape
    count = min(count, n_cols)
    if count == 0 or n_rows == 0:
        return np.zeros((n_rows, count), dtype=np.intp)
    if 4 * count >= n_cols:
        return np.argsort(matrix, axis=1, kind="stable")[:, :count]
    kth = np.partition(matrix, count - 1, axis=1)[:, count - 1 : count]
    rows, cols = np.nonzero(matrix <= kth)  # ≥ count per row, ties at kth included
    order = np.lexsort((cols, matrix[rows, cols], rows))
    cols = cols[order]
    starts = np.zeros(n_rows, dtype=np.intp)
    np.cumsum(np.bincount(rows, minlength=n_rows)[:-1], out=starts[1:])
    return cols[starts[:, None] + np.arange(count)[None, :]]
