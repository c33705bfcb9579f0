"""Lagrangian reduced-cost fixing for the exact (small-table) p-median model.

Why: at 100 units the full model has n² pair variables and CP-SAT spends
most of its time branching on pairs that no plan as good as the incumbent
can use. The textbook p-median remedy: a Lagrangian bound, evaluated with
one pair (or one medoid) forced in, that already reaches the incumbent's
cost proves that pair useless *for beating the incumbent*. Dropping it keeps
every plan cheaper than the incumbent, and the incumbent itself (its pairs
are never dropped), so the reduced model's optimum and bound are the full
model's.

Relaxation (valid under every rule: only the cluster count and the size
window are kept; balance, regions, contiguity … only remove plans).
Dualising "each unit in exactly one cluster" with integer multipliers ``u``::

    L(u) = Σ_i u_i + (sum of the k smallest ρ_m)
    ρ_m  = −u_m + min over lo−1 ≤ t ≤ hi−1 of the t smallest (c_im − u_i), i ≠ m

With ``i`` forced into ``m``'s cluster, ``ρ_m`` becomes ``ρ_m^i`` (``c_im − u_i``
plus the best ``lo−2 … hi−2`` others) and ``m`` must be among the chosen,
which gives ``L^{im}``. Each per-medoid subproblem is a cardinality-window
selection (integral LP), so the best ``L`` equals the model's root LP bound
without balance. Costs and multipliers are integers, so every value is exact
in float64 (costs ≤ ~1e7, sums ≤ ~1e11 ≪ 2^53).

Determinism: a fixed iteration count, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from optimizer.bound import size_window
from optimizer.subgradient import StepFactor

#: Subgradient iterations. 100 units, K = 8 (S, seed 0): the bound stops
#: moving after ~150; each iteration costs ~2 ms there.
ITERATIONS = 300
#: Polyak step factor: start, halving, and iterations without progress first.
STEP_START = 2.0
STEP_DECAY = 0.5
PATIENCE = 10
#: Medoid sets kept for the Lagrangian heuristic (optimizer.small_exact).
MEDOID_SETS = 8


@dataclass(frozen=True)
class FixingResult:
    """Pairs and medoids that no plan cheaper than the incumbent uses."""

    bound: int  # best L(u) found (integer cost units)
    drop_pairs: list[tuple[int, int]]  # (unit, medoid), unit ≠ medoid
    drop_medoids: list[int]
    iterations: int
    medoid_sets: tuple[tuple[int, ...], ...] = ()  # chosen medoids at improving steps, newest first

    @property
    def drop_pairs_set(self) -> set[tuple[int, int]]:
        """``drop_pairs`` as a set (fast membership)."""
        return set(self.drop_pairs)


def _rows(c: np.ndarray, u: np.ndarray, lo: int, hi: int):
    """Sorted reduced costs per medoid column, their prefix sums and ``ρ``."""
    n = len(u)
    red = c - u[:, None]  # red[i, m] = c_im − u_i
    np.fill_diagonal(red, np.inf)  # the medoid itself is counted as −u_m
    order = np.argsort(red, axis=0, kind="stable")
    s = np.take_along_axis(red, order, axis=0)  # column m sorted ascending
    s_fin = np.where(np.isfinite(s), s, 0.0)
    prefix = np.vstack([np.zeros((1, n)), np.cumsum(s_fin, axis=0)])  # prefix[t, m]
    finite = np.isfinite(s).sum(axis=0)  # units available per column
    best = np.full(n, np.inf)
    for t in range(max(lo - 1, 0), hi):
        ok = finite >= t
        best = np.where(ok, np.minimum(best, prefix[t]), best)
    return order, s, prefix, finite, best - u


def lagrangian_fixing(
    cost: np.ndarray,
    k: int,
    lo: int,
    hi: int,
    upper: int,
    keep: Mapping[int, int],
    *,
    iterations: int = ITERATIONS,
) -> FixingResult:
    """Pairs and medoids whose forced Lagrangian bound reaches ``upper``.

    ``cost[i, m]`` is the integer pair cost (``inf`` where no pair variable
    exists; column ``m`` all ``inf`` = not a candidate medoid); ``upper`` the
    model objective of a plan satisfying every rule; ``keep`` that plan
    (unit → medoid): its pairs and medoids are never dropped. ``lo``/``hi``
    must hold for every cluster of every plan (tightened by
    :func:`optimizer.bound.size_window`).
    """
    c = np.asarray(cost, dtype=np.float64)
    n = len(c)
    lo, hi = size_window(n, k, lo, hi)
    if n <= k or k <= 0 or lo > hi:
        return FixingResult(0, [], [], 0)
    own = np.array([c[i, keep[i]] if i in keep else 0.0 for i in range(n)])
    u = np.rint(own)
    drop = np.zeros((n, n), dtype=bool)
    drop_med = np.zeros(n, dtype=bool)
    best_value, step = -np.inf, StepFactor(STEP_START, PATIENCE, STEP_DECAY)
    ranks = np.arange(n)[:, None]
    sets: list[tuple[int, ...]] = []
    it = 0
    for it in range(1, iterations + 1):
        order, s, prefix, finite, rho = _rows(c, u, lo, hi)
        pos = np.argsort(rho, kind="stable")
        chosen = pos[:k]
        sum_k = float(rho[chosen].sum()) if np.all(np.isfinite(rho[chosen])) else np.inf
        value = float(u.sum()) + sum_k
        if not np.isfinite(value):
            break
        step.update(value > best_value)
        if value > best_value:
            best_value = value
            found = tuple(sorted(int(m) for m in chosen))
            if found not in sets:
                sets.insert(0, found)
        # the best k−1 other medoids' ρ when medoid m is forced in
        in_k = np.zeros(n, dtype=bool)
        in_k[chosen] = True
        sum_km1 = float(rho[pos[: k - 1]].sum()) if k > 1 else 0.0
        others = np.where(in_k, sum_k - rho, sum_km1)
        base = float(u.sum()) + others  # per medoid m
        drop_med |= base + rho >= upper
        # unit at rank r of column m forced in: the best t others excluding it
        forced = np.full((n, n), np.inf)  # forced[r, m]
        for t in range(max(lo - 2, 0), hi - 1):
            # t others without the rank-r one: prefix[t] if r ≥ t, else prefix[t+1] − s[r]
            with np.errstate(invalid="ignore"):
                alt = np.where(ranks >= t, prefix[t][None, :], prefix[t + 1][None, :] - s)
            ok = (finite - 1 >= t)[None, :]
            forced = np.where(ok, np.minimum(forced, alt), forced)
        with np.errstate(invalid="ignore"):
            rho_forced = s + forced - u[None, :]  # s[r, m] = c_im − u_i of that unit
            value_forced = base[None, :] + rho_forced
        hit = np.isfinite(s) & (value_forced >= upper)
        r_idx, m_idx = np.nonzero(hit)
        drop[order[r_idx, m_idx], m_idx] = True
        # subgradient: 1 − (how many chosen clusters hold unit i)
        count = np.zeros(n)
        count[chosen] += 1
        for m in chosen:
            t_best = _best_t(prefix[:, m], finite[m], lo, hi)
            count[order[:t_best, m]] += 1
        grad = 1.0 - count
        norm = float(grad @ grad)
        if norm == 0.0 or best_value >= upper:
            break
        u = np.rint(u + step.theta * max(upper - value, 1.0) / norm * grad)
    for i, m in keep.items():
        drop[i, m] = False
        drop_med[m] = False
    np.fill_diagonal(drop, False)
    pairs = [(int(i), int(m)) for i, m in zip(*np.nonzero(drop)) if not drop_med[m]]
    return FixingResult(
        bound=int(np.floor(best_value)) if np.isfinite(best_value) else 0,
        drop_pairs=pairs,
        drop_medoids=[int(m) for m in np.nonzero(drop_med)[0]],
        iterations=it,
        medoid_sets=tuple(sets[:MEDOID_SETS]),
    )


def _best_t(prefix_col: np.ndarray, finite: int, lo: int, hi: int) -> int:
    """How many others the cheapest window choice of one column takes."""
    ts = [t for t in range(max(lo - 1, 0), hi) if t <= finite]
    return min(ts, key=lambda t: (prefix_col[t], t))
