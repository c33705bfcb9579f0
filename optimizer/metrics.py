"""Plan metrics: how homogeneous, balanced, pure, contiguous and stable a plan is.

Every metric is a pure function ``metric(plan, problem) -> float`` in the
registry :data:`METRICS`; :func:`compute_metrics` evaluates the ones that apply
to the problem and adds one ``balance_dev:<column>`` per balanced or similarity
scale column. Keys are stable, so they become columns of a comparison.

All metrics are invariant to renumbering clusters (permuting ids together with
``cluster_labels``), vectorised with numpy over a label array in unit order.

Definitions
-----------
``dispersion``
    Within-cluster sum of squares of the feature space divided by the total sum
    of squares (0 = every cluster is internally identical, 1 = clusters are no
    better than one big cluster; lower is better). 0 when all units coincide.
``size_min`` / ``size_max`` / ``size_spread``
    Fewest and most units in a cluster, and their difference.
``balance_dev:<column>``
    ``max over clusters |total_c - mean| / |mean|`` with ``mean = column total /
    K``: the worst relative deviation from a perfectly even split (0.12 = the
    worst cluster is 12 % off). 0 when the column totals 0 and every cluster
    totals 0, ``inf`` when the mean is 0 but some cluster is not.
``function_purity``
    Share of units that carry their cluster's most common function (the
    function held by most members; a multi-valued unit counts for each of its
    functions and matches if any of them is the cluster's). Units without
    function never match. Omitted when no unit has a function.
``region_purity``
    Share of units whose region is their cluster's most common region; units
    without region never match. Omitted when no unit has a region.
``disconnected_clusters``
    Number of clusters not connected in the adjacency graph (omitted without a
    graph).
``units_moved``
    Units whose ``current_cluster`` differs from their new cluster's label
    (omitted without a current grouping).
``n_clusters``
    Number of clusters of the plan.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from features.graph import disconnected_clusters
from optimizer.check import moved_units
from optimizer.plan import Plan
from optimizer.problem import Problem

MetricFn = Callable[[Plan, Problem], float]


def label_array(plan: Plan, unit_ids: tuple[str, ...]) -> np.ndarray:
    """Cluster index of each unit of ``unit_ids`` as an int array.

    Raises
    ------
    ValueError
        A unit has no cluster (metrics need a complete partition).
    """
    labels = plan.assignment.labels
    try:
        return np.fromiter(
            (labels[u] for u in unit_ids), dtype=np.int64, count=len(unit_ids)
        )
    except KeyError as err:
        raise ValueError(f"unit {err.args[0]!r} has no cluster in the plan") from None


def _n_slots(plan: Plan, labels: np.ndarray) -> int:
    return max(len(plan.cluster_labels), int(labels.max(initial=-1)) + 1)


def dispersion(plan: Plan, problem: Problem) -> float:
    """Within-cluster / total sum of squares of ``problem.features`` (lower is better)."""
    fm = problem.features
    x = fm.values
    labels = label_array(plan, fm.unit_ids)
    if x.shape[1] == 0 or len(labels) == 0:
        return 0.0
    total = float(((x - x.mean(axis=0)) ** 2).sum())
    if total <= 0:
        return 0.0
    k = _n_slots(plan, labels)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x)
    # within SS = sum ||x||^2 - sum_c ||S_c||^2 / n_c
    nonempty = counts > 0
    between = float(((sums[nonempty] ** 2).sum(axis=1) / counts[nonempty]).sum())
    within = float((x**2).sum()) - between
    return max(0.0, within / total)


def _sizes(plan: Plan, problem: Problem) -> np.ndarray:
    labels = label_array(plan, problem.unit_ids)
    return np.bincount(labels, minlength=_n_slots(plan, labels))


def size_min(plan: Plan, problem: Problem) -> float:
    """Units in the smallest cluster."""
    sizes = _sizes(plan, problem)
    return float(sizes.min()) if len(sizes) else 0.0


def size_max(plan: Plan, problem: Problem) -> float:
    """Units in the largest cluster."""
    sizes = _sizes(plan, problem)
    return float(sizes.max()) if len(sizes) else 0.0


def size_spread(plan: Plan, problem: Problem) -> float:
    """Largest minus smallest cluster size (0 = perfectly even sizes)."""
    sizes = _sizes(plan, problem)
    return float(sizes.max() - sizes.min()) if len(sizes) else 0.0


def balance_deviation(plan: Plan, problem: Problem, column: str) -> float:
    """Worst relative deviation of a cluster total of ``column`` from the mean total."""
    labels = label_array(plan, problem.unit_ids)
    values = problem.profiles.column_values(column)
    k = _n_slots(plan, labels)
    if k == 0:
        return 0.0
    totals = np.bincount(labels, weights=values, minlength=k)
    mean = float(values.sum()) / k
    worst = float(np.abs(totals - mean).max())
    if mean == 0:
        return 0.0 if worst == 0 else float("inf")
    return worst / abs(mean)


def _purity(labels: np.ndarray, category_sets: list[frozenset[str]], k: int) -> float:
    """Share of units holding their cluster's most common category (see module doc)."""
    categories = sorted(set().union(*category_sets)) if category_sets else []
    if not categories:
        return float("nan")
    index = {c: i for i, c in enumerate(categories)}
    member = np.zeros((len(labels), len(categories)), dtype=bool)
    for row, cats in enumerate(category_sets):
        member[row, [index[c] for c in cats]] = True
    counts = np.zeros((k, len(categories)), dtype=np.int64)
    np.add.at(counts, labels, member.astype(np.int64))
    top = counts.argmax(axis=1)  # ties: first category in sorted order
    matches = member[np.arange(len(labels)), top[labels]]
    return float(matches.mean())


def _function_sets(problem: Problem) -> list[frozenset[str]]:
    return [
        frozenset(v) if isinstance(v, (tuple, list)) else frozenset()
        for v in problem.profiles.frame["functions"]
    ]


def _region_sets(problem: Problem) -> list[frozenset[str]]:
    return [
        frozenset([v]) if isinstance(v, str) and v else frozenset()
        for v in problem.profiles.frame["region"]
    ]


def function_purity(plan: Plan, problem: Problem) -> float:
    """Share of units carrying their cluster's most common function."""
    labels = label_array(plan, problem.unit_ids)
    return _purity(labels, _function_sets(problem), _n_slots(plan, labels))


def region_purity(plan: Plan, problem: Problem) -> float:
    """Share of units in their cluster's most common region."""
    labels = label_array(plan, problem.unit_ids)
    return _purity(labels, _region_sets(problem), _n_slots(plan, labels))


def n_disconnected_clusters(plan: Plan, problem: Problem) -> float:
    """Clusters whose members are not connected in the adjacency graph."""
    if problem.graph is None:
        raise ValueError("disconnected_clusters needs an adjacency graph")
    return float(len(disconnected_clusters(problem.graph, plan.assignment.parts())))


def units_moved(plan: Plan, problem: Problem) -> float:
    """Units whose current cluster differs from the label of their new cluster."""
    return float(len(moved_units(plan, problem)))


def n_clusters(plan: Plan, problem: Problem) -> float:
    """Number of clusters of the plan."""
    return float(len(plan.cluster_labels))


#: Every fixed-name metric; ``balance_dev:<column>`` are added per column.
METRICS: dict[str, MetricFn] = {
    "dispersion": dispersion,
    "size_min": size_min,
    "size_max": size_max,
    "size_spread": size_spread,
    "function_purity": function_purity,
    "region_purity": region_purity,
    "disconnected_clusters": n_disconnected_clusters,
    "units_moved": units_moved,
    "n_clusters": n_clusters,
}

_APPLIES: dict[str, Callable[[Problem], bool]] = {
    "function_purity": lambda p: any(_function_sets(p)),
    "region_purity": lambda p: any(_region_sets(p)),
    "disconnected_clusters": lambda p: p.graph is not None,
    "units_moved": lambda p: p.profiles.has_current,
}


def balance_columns(problem: Problem) -> list[str]:
    """Balanced columns, then scale columns used in similarity, without repeats."""
    columns = list(problem.rules.balance)
    for criterion in problem.features.groups:
        if criterion in problem.profiles.numeric_columns and criterion not in columns:
            columns.append(criterion)
    return columns


def compute_metrics(plan: Plan, problem: Problem) -> dict[str, float]:
    """Every applicable metric of ``plan``: registry order, then ``balance_dev:<column>``."""
    out = {
        name: fn(plan, problem)
        for name, fn in METRICS.items()
        if _APPLIES.get(name, lambda p: True)(problem)
    }
    for column in balance_columns(problem):
        out[f"balance_dev:{column}"] = balance_deviation(plan, problem, column)
    return out
