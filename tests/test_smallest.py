"""smallest_columns against the whole-row stable sort it replaces."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.smallest import smallest_columns


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 12),
    st.integers(1, 40),
    st.integers(0, 45),
    st.integers(1, 6),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_same_columns_as_a_stable_argsort(
    n_rows, n_cols, count, levels, with_inf, seed
):
    """Few distinct values (many ties) and infinite entries, as on a masked diagonal."""
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, levels, size=(n_rows, n_cols)).astype(np.float64)
    if with_inf:
        matrix[rng.random(matrix.shape) < 0.2] = np.inf
    expected = np.argsort(matrix, axis=1, kind="stable")[:, :count]
    np.testing.assert_array_equal(smallest_columns(matrix, count), expected)


def test_large_rows_use_the_partition_path():
    rng = np.random.default_rng(0)
    matrix = np.round(rng.random((300, 500)), 2)  # ties on two decimals
    np.testing.assert_array_equal(
        smallest_columns(matrix, 6), np.argsort(matrix, axis=1, kind="stable")[:, :6]
    )
