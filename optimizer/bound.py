"""A Lagrangian lower bound of the capacitated p-median, for large tables.

Why: above ``FULL_MODEL_MAX_UNITS`` the plan's objective used to be compared
with "each non-medoid unit costs at least its nearest-neighbour distance"
(:func:`optimizer.lns.full_lower_bound`), which is valid but reads as a gap
of 0.8–0.97 — planners took that as "this plan may be 5× worse than optimal".
This module computes a bound that is just as valid and much closer.

Relaxation. Keep only the cluster count ``k`` and the size bounds — every
scenario's plans satisfy them, so the bound holds for the full scenario
(move costs of a stability weight are ≥ 0 and only add). Choosing ``k``
medoids ``j`` and clusters around them is then relaxed by dropping "each unit
in exactly one cluster" with multipliers ``u_i``::

    L(u) = Σ_i u_i + (sum of the k smallest ρ_j(u))
    ρ_j(u) = −u_j + min over lo−1 ≤ m ≤ hi−1 of the m smallest (d_ij − u_i), i ≠ j

``L(u)`` is a lower bound for every ``u`` (weak duality), so the best value
seen is kept; ``u`` follows Polyak subgradient steps aimed at the incumbent
plan's objective, starting from the incumbent's own assignment costs.

Scale. All pairs are n² (11 M at 3 300 units). Each unit ``i`` keeps exact
costs to its ``q`` nearest neighbours; for every other ``j``, ``d_ij`` is
replaced by ``D_i`` ≤ ``d_ij`` (the ``q``-th neighbour's cost, minus one for
float rounding) — lower costs only lower the bound. For a medoid ``j`` the
units with an exact cost are its neighbours both ways (``j`` among their
``q`` nearest, or they among ``j``'s); every other unit costs ``D_i − u_i``,
a vector shared by all medoids, so its sorted prefix serves every ``ρ_j``
exactly. Memory is linear in ``n·q``.

Determinism: the iteration count follows ``max_work`` (entries sorted); the
wall-clock ``deadline`` only stops early (``BoundResult.clock_stopped``).
Multipliers are rounded to integers before each evaluation, so ``L(u)`` is
computed in exact integer arithmetic (float64 holds these sums exactly).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors

from optimizer.objective import COST_SCALE

#: Exact costs kept per unit, as a multiple of the largest cluster size
#: (measured at 700 units S: TODO).
NEIGHBOUR_FACTOR = 8
#: ... but never fewer than this many (small clusters still need a neighbourhood).
MIN_NEIGHBOURS = 32
#: Above this many exact (unit, neighbour) costs the neighbour count is cut
#: (memory: the symmetrised graph holds up to twice as many, 24 bytes each).
MAX_GRAPH_ENTRIES = 4_000_000
#: Share of a count's nominal time granted to the bound, and the work (entries
#: sorted) per nominal second — TODO measured.
BOUND_SHARE = 0.05
BOUND_WORK_PER_S = 2.0e7
#: Rows of ρ_j computed at once (memory: rows × row width floats).
CHUNK_ROWS = 2048
#: Longest sorted prefix per ρ_j; beyond it, the remaining negative terms are
#: bounded below by the last value kept (valid, looser; only without a max size).
MAX_ROW_WIDTH = 512
#: Polyak step factor at the start, its halving, and the iterations without a
#: better bound before halving.
STEP_START = 1.0
STEP_DECAY = 0.5
PATIENCE = 10
#: Stop once the step factor falls below this (no further progress expected).
STEP_MIN = 1e-3


@dataclass(frozen=True)
class BoundResult:
    """The best Lagrangian value found (integer cost units) and how it was reached."""

    bound: int
    iterations: int
    neighbours: int
    work: int
    clock_stopped: bool

    @property
    def value(self) -> float:
        """The bound in objective units (``bound / COST_SCALE``)."""
        return self.bound / COST_SCALE


@dataclass
class _Graph:
    """Each medoid's exactly-known costs (CSR) and every unit's truncation cost ``D_i``."""

    indptr: np.ndarray
    indices: np.ndarray
    costs: np.ndarray
    far: np.ndarray
    near: np.ndarray
    exact: bool


def size_window(n: int, k: int, min_size: int | None, max_size: int | None) -> tuple[int, int]:
    """Sizes any cluster of a feasible ``k``-partition can have (rules tightened by ``n``)."""
    lo = max(min_size or 1, 1)
    hi = min(max_size or n, n)
    return max(lo, n - (k - 1) * hi), min(hi, n - (k - 1) * lo)


def _costs(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Integer costs exactly as :func:`optimizer.objective.pair_distances` computes them."""
    out = np.empty(len(rows), dtype=np.float64)
    step = 1 << 20
    for s in range(0, len(rows), step):
        diff = values[rows[s:s + step]] - values[cols[s:s + step]]
        out[s:s + step] = np.rint(np.einsum("ij,ij->i", diff, diff) * COST_SCALE)
    return out


def _graph(values: np.ndarray, q: int) -> _Graph:
    """Exact costs to the ``q`` nearest neighbours, symmetrised; ``D_i`` for the rest."""
    n = len(values)
    if q >= n - 1:
        rows = np.repeat(np.arange(n), n)
        cols = np.tile(np.arange(n), n)
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
        indptr = np.arange(0, n * (n - 1) + 1, n - 1)
        costs = _costs(values, cols, rows)
        return _Graph(indptr, cols, costs, np.zeros(n), costs.reshape(n, n - 1).min(axis=1), True)
    nn = NearestNeighbors(n_neighbors=q + 1).fit(values)
    _, idx = nn.kneighbors(values)
    # drop each unit itself (not always first when rows coincide), keep q others
    own = idx == np.arange(n)[:, None]
    order = np.argsort(own, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)[:, :q]
    src = np.repeat(np.arange(n), q)
    dst = idx.ravel()
    c = _costs(values, src, dst)
    # D_i ≤ d_ij for every j outside i's q nearest (minus one: float ties/rounding)
    far = np.maximum(c.reshape(n, q).max(axis=1) - 1.0, 0.0)
    # medoid j's exact row: units i with j among theirs, and j's own neighbours
    med = np.concatenate([dst, src])
    unit = np.concatenate([src, dst])
    cost = np.concatenate([c, c])
    key = med.astype(np.int64) * n + unit
    key, first = np.unique(key, return_index=True)
    med, unit, cost = key // n, key % n, cost[first]
    indptr = np.searchsorted(med, np.arange(n + 1))
    near = c.reshape(n, q).min(axis=1)
    return _Graph(indptr, unit.astype(np.int64), cost, far, near, False)


def _rho(
    g: _Graph, u: np.ndarray, lo: int, hi: int, rows: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """ρ_j for each medoid in ``rows`` (all by default), their members, and the work done.

    Members (the ``m`` units ρ_j takes, medoid excluded) are only filled when
    ``rows`` is given — the subgradient needs them for the chosen medoids only.
    """
    n = len(u)
    want_members = rows is not None
    rows = np.arange(n) if rows is None else rows
    width = hi - 1 if hi - 1 <= MAX_ROW_WIDTH else max(MAX_ROW_WIDTH, lo - 1)
    outside = g.far - u
    order = np.argsort(outside, kind="stable")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    rho = np.empty(len(rows))
    members: list[np.ndarray] = []
    done = 0
    for s in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[s:s + CHUNK_ROWS]
        starts, ends = g.indptr[chunk], g.indptr[chunk + 1]
        deg = ends - starts
        maxdeg = int(deg.max()) if len(chunk) else 0
        r = np.repeat(np.arange(len(chunk)), deg)
        slot = np.arange(len(r)) - np.repeat(np.cumsum(deg) - deg, deg)
        flat = np.repeat(starts, deg) + slot
        nb = g.indices[flat]
        exact = np.full((len(chunk), maxdeg), np.inf)
        exact[r, slot] = g.costs[flat] - u[nb]
        if g.exact:
            table, ids = exact, np.full((len(chunk), maxdeg), -1)
            ids[r, slot] = nb
        else:
            p = min(n, width + maxdeg + 1)
            prefix = np.broadcast_to(outside[order[:p]], (len(chunk), p)).copy()
            hit = pos[nb] < p
            prefix[r[hit], pos[nb][hit]] = np.inf
            me = pos[chunk] < p
            prefix[np.nonzero(me)[0], pos[chunk][me]] = np.inf
            table = np.concatenate([exact, prefix], axis=1)
            ids = np.concatenate([np.full((len(chunk), maxdeg), -1),
                                  np.broadcast_to(order[:p], (len(chunk), p))], axis=1)
            ids[r, slot] = nb
        done += table.size
        w = min(width, table.shape[1])
        if want_members:
            pick = np.argsort(table, axis=1, kind="stable")[:, :w]
            vals = np.take_along_axis(table, pick, axis=1)
        else:
            vals = np.sort(np.partition(table, w - 1, axis=1)[:, :w], axis=1) if w else table[:, :0]
        sums = np.concatenate([np.zeros((len(chunk), 1)), np.cumsum(vals, axis=1)], axis=1)
        window = sums[:, lo - 1:w + 1]
        best = window.min(axis=1)
        if hi - 1 > w and w > 0:
            # the hi−1−w terms not sorted are each ≥ the last value kept
            tail = sums[:, w] + (hi - 1 - w) * np.minimum(vals[:, w - 1], 0.0)
            best = np.minimum(best, tail)
        rho[s:s + len(chunk)] = best - u[chunk]
        if want_members:
            m = lo - 1 + np.argmin(window, axis=1)
            picked = np.take_along_axis(ids, pick, axis=1)
            members.extend(picked[t, : m[t]] for t in range(len(chunk)))
    return rho, members, done


def neighbour_count(n: int, hi: int) -> int:
    """Exact costs kept per unit: a few cluster sizes' worth, memory permitting."""
    q = max(NEIGHBOUR_FACTOR * hi, MIN_NEIGHBOURS)
    return max(min(q, MAX_GRAPH_ENTRIES // max(n, 1), n - 1), min(n - 1, 1))


def bound_allowance(nominal_s: float) -> int:
    """Work granted to :func:`lagrangian_bound` for a count's nominal seconds."""
    return max(int(BOUND_SHARE * nominal_s * BOUND_WORK_PER_S), 1)


def bound_deadline(deadline: float, nominal_s: float) -> float:
    """Safety stop for the bound: its own share past the phases' deadline.

    The bound runs after the plan is final; the phases before it may have
    used the clock up to ``deadline`` on a loaded machine, and the bound's
    allowance is not carved out of theirs, so it may overrun by its share.
    """
    return max(deadline, time.monotonic()) + BOUND_SHARE * nominal_s


def lagrangian_value(
    features, k: int, min_size: int | None, max_size: int | None, u: np.ndarray,
    *, neighbours: int | None = None,
) -> float:
    """``L(u)`` for the given multipliers (a valid lower bound for any ``u``)."""
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)
    n = len(values)
    lo, hi = size_window(n, k, min_size, max_size)
    q = neighbours if neighbours is not None else neighbour_count(n, hi)
    g = _graph(values, min(max(q, 1), n - 1))
    u = np.asarray(u, dtype=np.float64)
    rho, _, _ = _rho(g, u, lo, hi)
    return float(u.sum() + np.sort(rho, kind="stable")[:k].sum())


def _incumbent_costs(values: np.ndarray, labels: np.ndarray) -> tuple[int, np.ndarray]:
    """The incumbent's medoid objective and each unit's cost to its cluster's medoid."""
    own = np.zeros(len(labels))
    total = 0
    for c in np.unique(labels):
        idx = np.nonzero(labels == c)[0]
        rows, cols = np.repeat(idx, len(idx)), np.tile(idx, len(idx))
        d = _costs(values, rows, cols).reshape(len(idx), len(idx))
        best = int(np.argmin(d.sum(axis=0)))
        own[idx] = d[:, best]
        total += int(d[:, best].sum())
    return total, own


def lagrangian_bound(
    features,
    k: int,
    min_size: int | None,
    max_size: int | None,
    incumbent_labels: Sequence[int] | None,
    *,
    max_work: int,
    deadline: float | None = None,
    neighbours: int | None = None,
) -> BoundResult:
    """Best Lagrangian lower bound found within ``max_work`` (integer cost units).

    ``features`` is a :class:`features.types.FeatureMatrix` (or its value
    array); ``incumbent_labels`` (cluster per unit, any numbering) gives the
    step target and the start; without it the bound is 0. ``neighbours``
    overrides ``q`` (``n − 1`` = exact costs, for tests). ``deadline`` is a
    ``time.monotonic()`` safety stop only.
    """
    values = np.asarray(getattr(features, "values", features), dtype=np.float64)
    n = len(values)
    if incumbent_labels is None or n <= k or k <= 0:
        return BoundResult(0, 0, 0, 0, False)
    lo, hi = size_window(n, k, min_size, max_size)
    if lo > hi:
        return BoundResult(0, 0, 0, 0, False)
    q = neighbours if neighbours is not None else neighbour_count(n, hi)
    q = min(max(q, 1), n - 1)
    g = _graph(values, q)
    target, u = _incumbent_costs(values, np.asarray(incumbent_labels))
    # at u = nearest-neighbour costs L(u) ≥ full_lower_bound: never weaker than it
    rho, _, done = _rho(g, g.near, lo, hi)
    best = int(np.floor(g.near.sum() + np.sort(rho, kind="stable")[:k].sum()))
    spent, theta, stale, it, stopped = n * q + done, STEP_START, 0, 1, False
    while spent < max_work and theta >= STEP_MIN and best < target:
        if deadline is not None and time.monotonic() >= deadline:
            stopped = True
            break
        u = np.rint(u)
        rho, _, done = _rho(g, u, lo, hi)
        chosen = np.argsort(rho, kind="stable")[:k]
        value = float(u.sum() + rho[chosen].sum())
        spent += done + n
        it += 1
        if value > best:
            best, stale = int(np.floor(value)), 0
        else:
            stale += 1
            if stale >= PATIENCE:
                theta, stale = theta * STEP_DECAY, 0
        # subgradient: 1 − (how many chosen clusters hold unit i)
        _, members, done = _rho(g, u, lo, hi, rows=chosen)
        spent += done
        count = np.zeros(n)
        count[chosen] += 1
        for m in members:
            count[m] += 1
        grad = 1.0 - count
        norm = float(grad @ grad)
        if norm == 0.0:
            break
        u = u + theta * max(target - value, 0.0) / norm * grad
    return BoundResult(best, it, q, spent, stopped)
