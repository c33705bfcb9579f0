"""The cheapest cluster around each medoid, under truncated costs (for :mod:`optimizer.bound`).

Why a module of its own: this is the inner loop of the Lagrangian bound — the
part that must stay exact for the truncated costs and linear in memory — and
it is tested through :mod:`optimizer.bound`'s brute-force checks.

Each unit ``i`` keeps exact costs to its ``q`` nearest neighbours; for every
other ``j``, ``d_ij`` is replaced by ``D_i`` ≤ ``d_ij`` (the ``q``-th
neighbour's cost, minus one for float rounding). For a medoid ``j`` the units
with an exact cost are its neighbours both ways; every other unit costs
``D_i − u_i``, a vector shared by all medoids, so one sorted prefix of it
serves every row exactly. Under small clusters the medoids may be split into
groups (:func:`with_groups`), each with a far vector of its own and so a
prefix of its own. With a balance band relaxed by a multiplier μ, each
member's cost gains μ·w_i, still one shared vector per μ.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors

from optimizer.objective import COST_SCALE

#: Balance multipliers tried per column, in units of an average cluster's cost.
BALANCE_FACTORS = tuple(2.0 ** e for e in range(-4, 5))
#: Rows of ρ_j computed at once (memory: rows × row width floats).
CHUNK_ROWS = 512
#: Longest sorted prefix per ρ_j; beyond it, the remaining negative terms are
#: bounded below by the last value kept (valid, looser; only without a max size).
MAX_ROW_WIDTH = 512
#: Medoid groups (:func:`with_groups`): k-means on at most GROUP_SAMPLE units per
#: group, GROUP_KMEANS_ITER iterations; exact least costs up to
#: MAX_EXACT_GROUP_PAIRS pairs (n²), the shell around each centre beyond.
GROUP_SAMPLE = 20
GROUP_KMEANS_ITER = 20
GROUP_CHUNK = 1024
#: Work charged per (unit, group or unit, feature) entry of that build, divided by
#: this (3 300 units, 118 groups, 18 columns: 0.16 s against 6 ms per row evaluation).
GROUP_BUILD_SPEEDUP = 10
MAX_EXACT_GROUP_PAIRS = 25_000_000

@dataclass
class Graph:
    """Each medoid's exactly-known costs (CSR) and every unit's truncation cost ``D_i``."""

    indptr: np.ndarray
    indices: np.ndarray
    costs: np.ndarray
    far: np.ndarray
    near: np.ndarray
    exact: bool
    #: Optional medoid groups: ``group_far[group_of[j]]`` replaces ``far`` for medoid ``j``.
    group_of: np.ndarray | None = None
    group_far: np.ndarray | None = None

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
    width = hi - 1 if hi - 1 <= MAX_ROW_WIDTH else max(MAX_ROW_WIDTH, lo - 1)
    rho = np.empty(len(rows))
    members: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * (len(rows) if want_members else 0)
    degree = g.indptr[rows + 1] - g.indptr[rows]
    prefixes = None if g.exact else _Prefixes(g, u, rows, width + 1 + int(degree.max(initial=0)))
    done = prefixes.work if prefixes is not None else 0
    # rows of similar degree share a chunk, so little of each table is padding
    perm = np.argsort(degree, kind="stable")
    for s in range(0, len(rows), CHUNK_ROWS):
        at = perm[s:s + CHUNK_ROWS]
        done += _chunk_rows(g, u, lo, hi, width, rows[at], at, prefixes, rho,
                            members if want_members else None)
    return rho, members, done


class _Prefixes:
    """The cheapest ``p`` units outside each medoid's exact row, sorted, per medoid group.

    Without groups every medoid shares one vector ``D_i − u_i``; with groups
    (:func:`with_groups`) each group has its own, ``group_far[t] − u``.
    """

    def __init__(self, g: Graph, u: np.ndarray, rows: np.ndarray, p: int):
        n = len(u)
        self.p = p = min(p, n)
        if g.group_of is None:
            outside = (g.far - u)[None, :]
            self.of_row = np.zeros(n, dtype=np.int64)
            order = np.argsort(outside[0], kind="stable")[None, :p]
            self.work = 0  # (one shared sort, as cheap as a few rows)
        else:
            used, inverse = np.unique(g.group_of[rows], return_inverse=True)
            self.of_row = np.zeros(n, dtype=np.int64)
            self.of_row[rows] = inverse
            outside = g.group_far[used] - u[None, :]
            order = np.argpartition(outside, p - 1, axis=1)[:, :p] if p < n else np.tile(
                np.arange(n), (len(used), 1))
            part = np.take_along_axis(outside, order, axis=1)
            order = np.take_along_axis(order, np.argsort(part, axis=1, kind="stable"), axis=1)
            self.work = outside.size
        self.order = order
        self.values = np.take_along_axis(outside, order, axis=1)
        self.pos = np.full((len(order), n), n, dtype=np.int32 if n < 2**31 else np.int64)
        np.put_along_axis(self.pos, order, np.arange(p)[None, :], axis=1)


def _chunk_rows(g, u, lo, hi, width, chunk, at, prefixes, rho, members) -> int:
    """Fill ``rho[at]`` (and ``members[at]``) for the medoids ``chunk``; returns the work."""
    starts, ends = g.indptr[chunk], g.indptr[chunk + 1]
    deg = ends - starts
    maxdeg = int(deg.max()) if len(chunk) else 0
    r = np.repeat(np.arange(len(chunk)), deg)
    slot = np.arange(len(r)) - np.repeat(np.cumsum(deg) - deg, deg)
    flat = np.repeat(starts, deg) + slot
    nb = g.indices[flat]
    table = np.full((len(chunk), maxdeg), np.inf)
    table[r, slot] = g.costs[flat] - u[nb]
    p = 0 if prefixes is None else min(prefixes.p, width + maxdeg + 1)
    if p:
        grp = prefixes.of_row[chunk]
        pos_nb = prefixes.pos[grp[r], nb]
        # a row needs `width` entries besides its masked ones (neighbours, itself)
        hits = np.bincount(r[pos_nb < p], minlength=len(chunk))
        p = min(p, width + 1 + int(hits.max(initial=0)))
        prefix = prefixes.values[grp, :p].copy()
        hit = pos_nb < p
        prefix[r[hit], pos_nb[hit]] = np.inf
        pos_me = prefixes.pos[grp, chunk]
        me = pos_me < p
        prefix[np.nonzero(me)[0], pos_me[me]] = np.inf
        table = np.concatenate([table, prefix], axis=1)
    w = min(width, table.shape[1])
    if members is not None:
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
    if members is not None:
        ids = np.full((len(chunk), maxdeg), -1)
        ids[r, slot] = nb
        if p:
            ids = np.concatenate([ids, prefixes.order[grp, :p]], axis=1)
        m = lo - 1 + np.argmin(window, axis=1)
        picked = np.take_along_axis(ids, pick, axis=1)
        for t in range(len(chunk)):
            members[at[t]] = picked[t, : m[t]]
    return table.size


def with_groups(g: Graph, values: np.ndarray, n_groups: int, seed: int = 0) -> tuple[Graph, int]:
    """``g`` with medoid groups whose far costs see where the group lies; and the work done.

    Why: ``D_i`` (the ``q``-th neighbour's cost) is the same for every medoid,
    so under small clusters and strong categorical columns — every unit has
    ``q`` near twins of its own function and region — a unit costs next to
    nothing to *any* far medoid, and the Lagrangian stalls near 0 (3 300 units,
    550 clusters of 5–7: 7.6 against a plan of 123, 93.7 with all costs
    exact). A group ``t`` of medoids keeps, per unit ``i``, a cost no medoid
    of the group can undercut: its members' least exact cost to ``i`` (or, on
    large tables, the distance from ``i`` to the shell ``[r_min, r_max]``
    around the group's centre that holds them), never below ``D_i`` nor below
    the group's least ``D_j`` (a pair outside both rows costs at least
    either end's truncation).
    """
    n = len(values)
    n_groups = min(n_groups, n)
    if n_groups < 2 or g.exact:
        return g, 0
    # groups from k-means on a sample (any grouping is valid; compact ones bound best)
    rng = np.random.default_rng(seed)
    sample = values if n <= GROUP_SAMPLE * n_groups else values[
        np.sort(rng.choice(n, GROUP_SAMPLE * n_groups, replace=False))]
    with warnings.catch_warnings():
        # fewer distinct rows than groups (duplicates): fewer groups, still valid
        warnings.simplefilter("ignore", ConvergenceWarning)
        centres = KMeans(n_groups, n_init=1, max_iter=GROUP_KMEANS_ITER,
                         random_state=seed).fit(sample).cluster_centers_
    # differences, not the |a|² + |b|² − 2ab expansion: the shell bound below subtracts
    # two of these distances, and the expansion's cancellation near a centre would
    # eat into its margin
    dist = np.empty((n, n_groups))
    for s in range(0, n, GROUP_CHUNK):
        dist[s:s + GROUP_CHUNK] = np.sqrt(np.maximum(
            ((values[s:s + GROUP_CHUNK, None, :] - centres[None]) ** 2).sum(axis=2), 0.0))
    group_of = np.argmin(dist, axis=1)
    # only groups that hold a unit (a centre may win none, or repeat another)
    held, group_of = np.unique(group_of, return_inverse=True)
    dist, n_groups = dist[:, held], len(held)
    if n_groups < 2:
        return g, 0
    work = n * n_groups * values.shape[1]
    group_near = np.full(n_groups, np.inf)
    np.minimum.at(group_near, group_of, g.far)
    if n * n <= MAX_EXACT_GROUP_PAIRS:
        low = _least_exact_costs(values, group_of, n_groups)
        work += n * n * values.shape[1]
    else:
        own = dist[np.arange(n), group_of]
        r_max = np.zeros(n_groups)
        r_min = np.full(n_groups, np.inf)
        np.maximum.at(r_max, group_of, own)
        np.minimum.at(r_min, group_of, own)
        gap = np.maximum(np.maximum(dist - r_max, r_min - dist), 0.0)
        # ‖f_i − f_j‖ ≥ |‖f_i − c‖ − ‖f_j − c‖|; minus one for float rounding
        low = np.floor(COST_SCALE * gap ** 2 * (1 - 1e-9)) - 1.0
    group_far = np.maximum(np.maximum(low.T, g.far[None, :]), group_near[:, None])
    # (vectorised distance arithmetic: measured ~10 times faster per entry than the rows)
    return (replace(g, group_of=group_of.astype(np.int64), group_far=group_far),
            work // GROUP_BUILD_SPEEDUP)


def _least_exact_costs(values: np.ndarray, group_of: np.ndarray, n_groups: int) -> np.ndarray:
    """``low[i, t]``: at most unit ``i``'s least exact cost to a member of group ``t``."""
    n = len(values)
    order = np.argsort(group_of, kind="stable")
    starts = np.searchsorted(group_of[order], np.arange(n_groups))
    members = values[order]
    sq = np.einsum("ij,ij->i", values, values)
    sq_members = sq[order]
    low = np.empty((n, n_groups))
    for s in range(0, n, GROUP_CHUNK):
        size = sq[s:s + GROUP_CHUNK, None] + sq_members[None, :]
        d2 = size - 2.0 * values[s:s + GROUP_CHUNK] @ members.T
        # the expansion loses up to a few ulps of |f_i|² + |f_j|² to cancellation: take
        # far more than that off, and one cost unit for the exact cost's rounding
        d2 = np.floor(COST_SCALE * np.maximum(d2 - 1e-9 * size, 0.0)) - 1.0
        low[s:s + GROUP_CHUNK] = np.minimum.reduceat(d2, starts, axis=1)
    return np.maximum(low, 0.0)


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
