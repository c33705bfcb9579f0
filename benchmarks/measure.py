"""Solver-free scores of one assignment, identical for every method.

Why recompute here instead of trusting each method's own report: the point of
the benchmark is a like-for-like comparison, so every label vector (KMeans,
k-means-constrained, plain CP-SAT, cumkhoi) goes through the *same* few lines
of numpy on the *same* feature matrix. Nothing here imports a solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Scores:
    """Quality and rule-violation figures of one assignment.

    ``size_excess`` is the worst number of units by which a cluster lies outside
    ``[min_size, max_size]`` (0 = the size rule holds; an empty cluster counts
    as size 0). ``pop_dev`` is the worst relative deviation of a cluster's
    population total from the mean cluster total; ``pop_excess`` is how far it
    exceeds the tolerance (0 = the balance rule holds).
    """

    dispersion: float
    size_excess: int
    pop_dev: float
    pop_excess: float
    n_nonempty: int


def cluster_sizes(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Units per cluster ``0..n_clusters-1``, empty clusters included."""
    return np.bincount(labels, minlength=n_clusters)


def dispersion(values: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares divided by the total sum of squares.

    0 means every cluster is a set of identical units; 1 means clustering
    explains nothing. Lower is better; it is the KMeans objective normalised
    so that instances of different sizes can share a table.
    """
    values = np.asarray(values, dtype=np.float64)
    total = float(((values - values.mean(axis=0)) ** 2).sum())
    if total == 0.0:
        return 0.0
    n_clusters = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=n_clusters).astype(np.float64)
    sums = np.zeros((n_clusters, values.shape[1]))
    np.add.at(sums, labels, values)
    means = sums / np.maximum(counts, 1.0)[:, None]  # empty clusters have no member
    # squared deviations from each member's own cluster mean: the shortcut
    # sum ||x||^2 - sum_c ||S_c||^2 / n_c cancels catastrophically when the
    # spread is tiny next to the values (hypothesis found 1e-6 apart at 1.0)
    within = float(((values - means[labels]) ** 2).sum())
    return within / total


def size_excess(
    labels: np.ndarray, n_clusters: int, min_size: int, max_size: int
) -> int:
    """Worst number of units by which a cluster size leaves ``[min_size, max_size]``."""
    sizes = cluster_sizes(labels, n_clusters)
    below = np.maximum(0, min_size - sizes)
    above = np.maximum(0, sizes - max_size)
    return int(max(below.max(), above.max()))


def population_deviation(
    labels: np.ndarray, n_clusters: int, population: np.ndarray
) -> float:
    """Worst ``|total_c - mean| / mean`` over clusters, mean = grand total / K.

    This is the spec's balance rule (``[balance] population = 0.10`` means
    every cluster total within ``mean * (1 ± 0.10)``); empty clusters count
    with total 0, i.e. deviation 1.
    """
    totals = np.bincount(labels, weights=population, minlength=n_clusters)
    mean = float(population.sum()) / n_clusters
    if mean == 0.0:
        return 0.0
    return float(np.abs(totals - mean).max() / mean)


def score(
    values: np.ndarray,
    labels: np.ndarray,
    *,
    n_clusters: int,
    min_size: int,
    max_size: int,
    population: np.ndarray,
    tolerance: float,
) -> Scores:
    """Every figure of the results table for one assignment."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape[0] != values.shape[0]:
        raise ValueError("one label per unit required")
    if labels.min() < 0 or labels.max() >= n_clusters:
        raise ValueError(f"labels must lie in 0..{n_clusters - 1}")
    dev = population_deviation(labels, n_clusters, population)
    return Scores(
        dispersion=dispersion(values, labels),
        size_excess=size_excess(labels, n_clusters, min_size, max_size),
        pop_dev=dev,
        pop_excess=max(0.0, dev - tolerance),
        n_nonempty=int((cluster_sizes(labels, n_clusters) > 0).sum()),
    )


def size_bounds(n_units: int, n_clusters: int) -> tuple[int, int]:
    """The issue's size bounds ``[floor(N/K) - 1, ceil(N/K) + 1]`` (never below 1)."""
    return max(1, n_units // n_clusters - 1), math.ceil(n_units / n_clusters) + 1


def default_n_clusters(n_units: int) -> int:
    """K for N: 8/8/50/100/200/500 at 63/100/700/3 300/10 000/50 000 units, else ~N/66.

    The two small sizes keep clusters near a dozen units like the 700-unit row
    (63 units with K = 8 is the findings' instance; 100 units with K = 8 gives
    sizes 11–14), small enough for an exact model to prove optimality.
    """
    table = {63: 8, 100: 8, 700: 50, 3300: 100, 10000: 200, 50000: 500}
    if n_units in table:
        return table[n_units]
    return max(2, round(n_units / 66))
