"""The LP relaxation of the plain CP-SAT model: a bound, not a plan.

Why it is in the benchmark: issue 7 quotes how far the plain model's LP
relaxation lies below the plain model's plans (0.70 × at 700 units, 0.28 × at
3 300 in the findings). The relaxation is *exactly* the model of
:func:`benchmarks.baselines.run_plain_cpsat` — the same KMeans centres,
integer costs, size bounds and rounded population bounds, built by the shared
:func:`benchmarks.baselines.plain_model_data` — with ``x[unit, cluster]``
relaxed from {0, 1} to [0, 1], solved by HiGHS through
``scipy.optimize.linprog``.

Its value bounds the plain model's *fixed-centre* cost from below. It is not a
bound of the plain model's recomputed dispersion (moving each centre to its
cluster's mean lowers the cost of a plan), and not a bound for cumkhoi, whose
centres are free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from benchmarks.baselines import COST_SCALE, MethodResult, plain_model_data

#: An x value farther than this from 0 and 1 counts as fractional (HiGHS's
#: primal feasibility tolerance is 1e-7; this is well above it).
FRACTIONAL_EPS = 1e-6
#: HiGHS status codes of ``linprog`` → the harness's status words.
_STATUS = {0: "LP bound", 1: "no bound (limit)", 2: "infeasible", 3: "unbounded"}


@dataclass(frozen=True, slots=True)
class LpResult:
    """Outcome of one relaxation: ``objective`` in the cost's own units."""

    status: str
    objective: float | None
    x: np.ndarray | None  # (units, K) fractional assignment when solved


def lp_relaxation(
    cost: np.ndarray,
    *,
    min_size: int,
    max_size: int,
    population: np.ndarray | None = None,
    pop_bounds: tuple[int, int] | None = None,
    time_limit_s: float | None = None,
) -> LpResult:
    """min Σ cost·x s.t. Σ_k x[u,k] = 1, sizes in bounds, (population totals in bounds).

    Variables are laid out unit-major (``u * K + k``). ``linprog`` has no
    ranged rows, so every two-sided cluster constraint becomes two ``≤`` rows.
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    n_units, n_clusters = cost.shape
    n_cols = n_units * n_clusters
    cols = np.arange(n_cols)
    # each unit fully assigned: row u covers columns u*K .. u*K + K - 1
    a_eq = csr_matrix((np.ones(n_cols), (cols // n_clusters, cols)), (n_units, n_cols))
    per_cluster = csr_matrix(
        (np.ones(n_cols), (cols % n_clusters, cols)), (n_clusters, n_cols)
    )
    blocks = [per_cluster, -per_cluster]
    rhs = [np.full(n_clusters, max_size), np.full(n_clusters, -min_size)]
    if pop_bounds is not None:
        if population is None:
            raise ValueError("pop_bounds needs population")
        weights = np.repeat(np.asarray(population, dtype=np.float64), n_clusters)
        weighted = csr_matrix(
            (weights, (cols % n_clusters, cols)), (n_clusters, n_cols)
        )
        lo, hi = pop_bounds
        blocks += [weighted, -weighted]
        rhs += [np.full(n_clusters, hi), np.full(n_clusters, -lo)]
    options: dict[str, object] = {}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    res = linprog(
        np.asarray(cost, dtype=np.float64).ravel(),
        A_ub=vstack(blocks).tocsr(),
        b_ub=np.concatenate(rhs).astype(np.float64),
        A_eq=a_eq,
        b_eq=np.ones(n_units),
        bounds=(0.0, 1.0),
        method="highs",
        options=options,
    )
    status = _STATUS.get(int(res.status), f"error ({res.message})")
    if res.status != 0:
        return LpResult(status=status, objective=None, x=None)
    return LpResult(
        status=status,
        objective=float(res.fun),
        x=np.asarray(res.x).reshape(n_units, n_clusters),
    )


def run_plain_lp(
    values: np.ndarray,
    population: np.ndarray,
    n_clusters: int,
    min_size: int,
    max_size: int,
    *,
    tolerance: float | None,
    seed: int,
    time_limit_s: float,
) -> MethodResult:
    """The plain model's LP bound, normalised like dispersion (÷ total SS).

    ``info["lp_bound"]`` = LP objective / ``COST_SCALE`` / total sum of
    squares of ``values``: comparable in scale with a dispersion, but measured
    against the plain model's fixed centres. ``labels`` is always None.
    """
    data = plain_model_data(
        values, population, n_clusters, tolerance=tolerance, seed=seed
    )
    t0 = time.perf_counter()
    result = lp_relaxation(
        data.cost,
        min_size=min_size,
        max_size=max_size,
        population=data.population,
        pop_bounds=data.pop_bounds,
        time_limit_s=time_limit_s,
    )
    info: dict[str, object] = {
        "n_columns": int(data.cost.size),
        "lp_s": round(time.perf_counter() - t0, 3),
    }
    if result.objective is None or result.x is None:
        info["error"] = f"HiGHS: {result.status} after {info['lp_s']} s"
        return MethodResult(labels=None, status=result.status, info=info)
    centred = np.asarray(values, dtype=np.float64)
    total_ss = float(((centred - centred.mean(axis=0)) ** 2).sum())
    split = (result.x > FRACTIONAL_EPS) & (result.x < 1 - FRACTIONAL_EPS)
    info.update(
        lp_objective=result.objective,
        lp_bound=result.objective / COST_SCALE / total_ss if total_ss else 0.0,
        fractional_units=int(split.any(axis=1).sum()),
    )
    return MethodResult(labels=None, status=result.status, info=info)
