"""The tools a planner or analyst would pick instead of cumkhoi.

* :func:`run_kmeans` — scikit-learn KMeans, no rules at all: the quality floor.
* :func:`run_kmeans_constrained` — the ``k-means-constrained`` package, which
  handles size bounds only (scenario S).
* :func:`run_plain_cpsat` — the textbook CP-SAT model of the findings: one
  Boolean ``x[unit, cluster]`` per pair, cluster centres fixed by KMeans, the
  same size and balance rules, minimise the summed squared distance to the
  fixed centres. It is here *because* it scales badly: it is what a competent
  analyst writes first, and the number cumkhoi must beat.

Libraries are imported inside each function so a worker process loads only
what its method needs (the worker pre-imports them before starting the
clock). Each returns labels ``0..K-1`` in unit order plus solver facts; scoring is
done elsewhere (:mod:`benchmarks.measure`) so that every method is judged by
the same code.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

#: Squared distances are multiplied by this and rounded to integers for CP-SAT.
COST_SCALE = 10_000


@dataclass(frozen=True, slots=True)
class MethodResult:
    """Labels of one run and what the method says about itself."""

    labels: np.ndarray | None  # None when no plan was found
    status: str  # "ok", "OPTIMAL", "FEASIBLE", "no plan", "infeasible", ...
    gap: float | None = None  # relative, against the solver's own bound
    info: dict[str, object] = field(default_factory=dict)


def run_kmeans(
    values: np.ndarray, n_clusters: int, *, seed: int, n_init: int = 10
) -> MethodResult:
    """Lloyd's KMeans on the feature matrix, ``n_init`` restarts, no rules."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit(values)
    return MethodResult(labels=km.labels_.astype(np.int64), status="ok")


def run_kmeans_constrained(
    values: np.ndarray, n_clusters: int, min_size: int, max_size: int, *, seed: int
) -> MethodResult:
    """k-means-constrained with its defaults (``n_init`` 10) and the size bounds."""
    from k_means_constrained import KMeansConstrained

    kmc = KMeansConstrained(
        n_clusters=n_clusters, size_min=min_size, size_max=max_size, random_state=seed
    )
    labels = kmc.fit_predict(values)
    return MethodResult(labels=np.asarray(labels, dtype=np.int64), status="ok")


@dataclass(frozen=True, slots=True)
class PlainModelData:
    """The numbers of the plain model, shared by CP-SAT and its LP relaxation.

    Why one builder: the LP bound (:mod:`benchmarks.plain_lp`) is only a bound
    of the plain CP-SAT model if both see the very same centres, integer costs
    and rounded population bounds.
    """

    cost: np.ndarray  # (units, K) int64: round(COST_SCALE * ||x_u - c_k||^2)
    population: np.ndarray  # (units,) int64, rounded
    pop_bounds: tuple[int, int] | None  # per-cluster total, rounded inwards; None in S
    kmeans_labels: np.ndarray  # the centres' own KMeans labels (CP-SAT hint)


def plain_model_data(
    values: np.ndarray,
    population: np.ndarray,
    n_clusters: int,
    *,
    tolerance: float | None,
    seed: int,
) -> PlainModelData:
    """KMeans centres (``n_init`` 10, ``seed``), scaled costs and population bounds."""
    from sklearn.cluster import KMeans

    centres = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit(values)
    sq = ((values[:, None, :] - centres.cluster_centers_[None, :, :]) ** 2).sum(axis=2)
    pop = np.rint(population).astype(np.int64)
    bounds = None
    if tolerance is not None:
        mean = float(pop.sum()) / n_clusters
        bounds = (math.ceil(mean * (1 - tolerance)), math.floor(mean * (1 + tolerance)))
    return PlainModelData(
        cost=np.rint(sq * COST_SCALE).astype(np.int64),
        population=pop,
        pop_bounds=bounds,
        kmeans_labels=np.asarray(centres.labels_, dtype=np.int64),
    )


def run_plain_cpsat(
    values: np.ndarray,
    population: np.ndarray,
    n_clusters: int,
    min_size: int,
    max_size: int,
    *,
    tolerance: float | None,
    seed: int,
    time_limit_s: float,
    num_workers: int = 2,
) -> MethodResult:
    """Dense assignment model around fixed KMeans centres (findings, row 5).

    Rules: every unit in exactly one cluster; every cluster size within
    ``[min_size, max_size]``; when ``tolerance`` is given, every cluster's
    population total within ``mean * (1 ± tolerance)`` with ``mean`` = grand
    total / K (population rounded to integers, bounds rounded inwards so a
    plan that satisfies the model satisfies the rule). Objective: the sum of
    ``round(COST_SCALE * ||x_u - c_k||²)`` over assigned pairs. The time limit
    covers the solver only; building the model is part of the measured wall
    time, as it is for a user.
    """
    from ortools.sat.python import cp_model

    data = plain_model_data(
        values, population, n_clusters, tolerance=tolerance, seed=seed
    )
    n_units = values.shape[0]
    cost, pop = data.cost, data.population

    t0 = time.perf_counter()
    model = cp_model.CpModel()
    x = {
        (u, k): model.new_bool_var(f"x[{u},{k}]")
        for u in range(n_units)
        for k in range(n_clusters)
    }
    for u in range(n_units):
        model.add_exactly_one(x[u, k] for k in range(n_clusters))
    for k in range(n_clusters):
        column = [x[u, k] for u in range(n_units)]
        model.add_linear_constraint(sum(column), min_size, max_size)
        if data.pop_bounds is not None:
            model.add_linear_constraint(
                cp_model.LinearExpr.weighted_sum(column, pop.tolist()), *data.pop_bounds
            )
    flat_vars = [x[u, k] for u in range(n_units) for k in range(n_clusters)]
    model.minimize(cp_model.LinearExpr.weighted_sum(flat_vars, cost.ravel().tolist()))
    for u, k in enumerate(data.kmeans_labels):  # KMeans labels as a (rule-blind) hint
        model.add_hint(x[u, int(k)], 1)
    build_s = time.perf_counter() - t0

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    info: dict[str, object] = {
        "build_s": round(build_s, 3),
        "n_bools": n_units * n_clusters,
    }
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = np.array(
            [
                [solver.boolean_value(x[u, k]) for k in range(n_clusters)]
                for u in range(n_units)
            ]
        )
        objective = solver.objective_value
        bound = solver.best_objective_bound
        gap = (
            0.0
            if status == cp_model.OPTIMAL
            else max(0.0, (objective - bound) / max(abs(objective), 1e-9))
        )
        info.update(objective=objective, bound=bound)
        return MethodResult(
            labels=chosen.argmax(axis=1).astype(np.int64),
            status=solver.status_name(status),
            gap=gap,
            info=info,
        )
    label = "infeasible" if status == cp_model.INFEASIBLE else "no plan"
    return MethodResult(labels=None, status=label, info=info)
