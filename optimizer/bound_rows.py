"""The cheapest cluster around each medoid, under truncated costs (for :mod:`optimizer.bound`).

Why a module of its own: this is the inner loop of the Lagrangian bound — the
part that must stay exact for the truncated costs and linear in memory — and
it is tested through :mod:`optimizer.bound`'s brute-force checks.

Each unit ``i`` keeps exact costs to its ``q`` nearest neighbours; for every
other ``j``, ``d_ij`` is replaced by ``D_i`` ≤ ``d_ij`` (the ``q``-th
neighbour's cost, minus one for float rounding). For a medoid ``j`` the units
with an exact cost are its neighbours both ways; every other unit costs
``D_i − u_i``, a vector shared by all medoids, so one sorted prefix of it
serves every row exactly. With a balance band relaxed by a multiplier μ, each
member's cost gains μ·w_i, still one shared vector per μ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from optimizer.objective import COST_SCALE

#: Balance multipliers tried per column, in units of an average cluster's cost.
BALANCE_FACTORS = tuple(2.0 ** e for e in range(-4, 5))
#: Rows of ρ_j computed at once (memory: rows × row width floats).
CHUNK_ROWS = 512
#: Longest sorted prefix per ρ_j; beyond it, the remaining negative terms are
#: bounded below by the last value kept (valid, looser; only without a max size).
MAX_ROW_WIDTH = 512

@dataclass
class Graph:
    """Each medoid's exactly-known costs (CSR) and every unit's truncation cost ``D_i``."""

    indptr: np.ndarray
    indices: np.ndarray
    costs: np.ndarray
    far: np.ndarray
    near: np.ndarray
    exact: bool

def exact_costs(values: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Integer costs exactly as :func:`optimizer.objective.pair_distances` computes them."""
    out = np.empty(len(rows), dtype=np.float64)
    step = 1 << 16
    for s in range(0, len(rows), step):
        diff = values[rows[s:s + step]] - values[cols[s:s + step]]
        out[s:s + step] = np.rint(np.einsum("ij,ij->i", diff, diff) * COST_SCALE)
    return out


def neighbour_graph(values: np.ndarray, q: int) -> Graph:
    """Exact costs to the ``q`` nearest neighbours, symmetrised; ``D_i`` for the rest."""
    n = len(values)
    if q >= n - 1:
        rows = np.repeat(np.arange(n), n)
        cols = np.tile(np.arange(n), n)
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
        indptr = np.arange(0, n * (n - 1) + 1, n - 1)
        costs = exact_costs(values, cols, rows)
        return Graph(indptr, cols, costs, np.zeros(n), costs.reshape(n, n - 1).min(axis=1), True)
    nn = NearestNeighbors(n_neighbors=q + 1).fit(values)
    _, idx = nn.kneighbors(values)
    # drop each unit itself (not always first when rows coincide), keep q others
    own = idx == np.arange(n)[:, None]
    order = np.argsort(own, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)[:, :q]
    src = np.repeat(np.arange(n), q)
    dst = idx.ravel()
    c = exact_costs(values, src, dst)
    # D_i ≤ d_ij for every j outside i's q nearest (minus one: float ties/rounding)
    far = np.maximum(c.reshape(n, q).max(axis=1) - 1.0, 0.0)
    # medoid j's exact row: units i with j among theirs, and j's own neighbours
    # (cost + 1 stored so that a zero cost is not dropped as a sparse zero)
    one_way = sparse.csr_matrix((c + 1.0, (src, dst)), shape=(n, n))
    both = one_way.maximum(one_way.T).tocsr()
    both.sort_indices()
    near = c.reshape(n, q).min(axis=1)
    return Graph(both.indptr.astype(np.int64), both.indices.astype(np.int64), both.data - 1.0,
                 far, near, False)


def cluster_rows(
    g: Graph, u: np.ndarray, lo: int, hi: int, rows: np.ndarray | None = None,
    want_members: bool = False,
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """ρ_j for each medoid in ``rows`` (all by default), their members, and the work done.

    Members (the ``m`` units ρ_j takes, medoid excluded) are only filled with
    ``want_members`` — the subgradient needs them for the chosen medoids only.
    """
    n = len(u)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    # rows of similar degree share a chunk, so little of each table is padding
    perm = np.argsort(g.indptr[rows + 1] - g.indptr[rows], kind="stable")
    width = hi - 1 if hi - 1 <= MAX_ROW_WIDTH else max(MAX_ROW_WIDTH, lo - 1)
    outside = g.far - u
    order = np.argsort(outside, kind="stable")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    rho = np.empty(len(rows))
    members: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * (len(rows) if want_members else 0)
    done = 0
    for s in range(0, len(rows), CHUNK_ROWS):
        at = perm[s:s + CHUNK_ROWS]
        chunk = rows[at]
        starts, ends = g.indptr[chunk], g.indptr[chunk + 1]
        deg = ends - starts
        maxdeg = int(deg.max()) if len(chunk) else 0
        r = np.repeat(np.arange(len(chunk)), deg)
        slot = np.arange(len(r)) - np.repeat(np.cumsum(deg) - deg, deg)
        flat = np.repeat(starts, deg) + slot
        nb = g.indices[flat]
        table = np.full((len(chunk), maxdeg), np.inf)
        table[r, slot] = g.costs[flat] - u[nb]
        p = 0 if g.exact else min(n, width + maxdeg + 1)
        if p:
            # a row needs `width` entries besides its masked ones (neighbours, itself)
            hits = np.bincount(r[pos[nb] < p], minlength=len(chunk))
            p = min(p, width + 1 + int(hits.max(initial=0)))
            prefix = np.broadcast_to(outside[order[:p]], (len(chunk), p)).copy()
            hit = pos[nb] < p
            prefix[r[hit], pos[nb][hit]] = np.inf
            me = pos[chunk] < p
            prefix[np.nonzero(me)[0], pos[chunk][me]] = np.inf
            table = np.concatenate([table, prefix], axis=1)
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
        if hi - 1 > w > 0:
            # the hi−1−w terms not sorted are each ≥ the last value kept
            tail = sums[:, w] + (hi - 1 - w) * np.minimum(vals[:, w - 1], 0.0)
            best = np.minimum(best, tail)
        rho[at] = best - u[chunk]
        if want_members:
            ids = np.full((len(chunk), maxdeg), -1)
            ids[r, slot] = nb
            if p:
                ids = np.concatenate([ids, np.broadcast_to(order[:p], (len(chunk), p))], axis=1)
            m = lo - 1 + np.argmin(window, axis=1)
            picked = np.take_along_axis(ids, pick, axis=1)
            for t in range(len(chunk)):
                members[at[t]] = picked[t, : m[t]]
    return rho, members, done


def balanced_rows(
    g: Graph, u: np.ndarray, lo: int, hi: int, grid: Sequence[tuple[np.ndarray, float]],
    at: np.ndarray, zero: int, candidates: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """ρ_j with the balance band relaxed by a grid multiplier near each row's last one.

    A grid point ``(a, b)`` adds ``a_i`` (= μ·w_i) to every member's cost,
    the medoid's included, and subtracts ``b`` (= μ times the band end μ
    pushes against): for any μ that is a lower bound of the cheapest
    cluster around ``j`` *within the band* (weak duality), so the best of
    the points tried is too. Every row gets μ = 0 (grid point ``zero``);
    only the ``candidates`` rows cheapest there — where the k smallest are
    found — also try ``at[j]`` and its two grid neighbours (the best μ moves
    slowly with ``u``). Returns ρ, the grid point behind each value (the
    next ``at``) and the work done.
    """
    best, _, done = cluster_rows(g, u, lo, hi)
    which = np.full(len(u), zero, dtype=np.int64)
    if len(grid) == 1:
        return best, which, done
    cand = np.argsort(best, kind="stable")[:candidates]
    for t, (shift, const) in enumerate(grid):
        rows = cand[np.abs(at[cand] - t) <= 1]
        if t == zero or not len(rows):
            continue
        rho, _, d = cluster_rows(g, u - shift, lo, hi, rows=rows)
        rho = rho - const
        done += d
        better = rho > best[rows]
        best[rows[better]] = rho[better]
        which[rows[better]] = t
    return best, which, done


def members_of(
    g: Graph, u: np.ndarray, lo: int, hi: int, grid: Sequence[tuple[np.ndarray, float]],
    at: np.ndarray, rows: np.ndarray,
) -> tuple[list[np.ndarray], int]:
    """The units each chosen medoid's cluster takes at its grid point (for the subgradient)."""
    picked: dict[int, np.ndarray] = {}
    done = 0
    for t in np.unique(at[rows]):
        sel = rows[at[rows] == t]
        _, mem, d = cluster_rows(g, u - grid[t][0], lo, hi, rows=sel, want_members=True)
        done += d
        picked.update(zip(sel.tolist(), mem))
    return [picked[int(j)] for j in rows], done


def balance_grid(
    balance: Sequence[tuple[np.ndarray, float, float]], n: int, scale: float,
) -> tuple[list[tuple[np.ndarray, float]], int]:
    """Grid points ``(μ·w, μ·band end)`` by increasing μ, and the index of μ = 0.

    ``balance`` holds (values, band low, band high) per column; the first
    column without missing or negative values is used (dropping the other
    rules keeps the relaxation valid). Weights are scaled so the band's top
    is 1 and μ runs geometrically in units of ``scale`` (an average
    cluster's cost).
    """
    zero = (np.zeros(n), 0.0)
    for values, low, high in balance:
        values = np.asarray(values, dtype=np.float64)
        if np.isnan(values).any() or (values < 0).any() or high <= 0:
            continue
        w = values / high
        # the checker allows 1e-9 relative slack: widen the band by more
        b_lo, b_hi = low / high - 1e-7, 1.0 + 1e-7
        neg = [(-f * scale * w, -f * scale * b_lo) for f in reversed(BALANCE_FACTORS)]
        pos = [(f * scale * w, f * scale * b_hi) for f in BALANCE_FACTORS]
        return neg + [zero] + pos, len(neg)
    return [zero], 0
