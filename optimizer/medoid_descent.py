"""Best-improvement moves and swaps on the *medoid* objective (small tables).

Why: the large path's local search lowers the centroid sum of squares; the
exact model minimises the medoid objective (:mod:`optimizer.objective`), and
reduced-cost fixing is only as strong as the incumbent is close to the
optimum. On a dense ``n × n`` cost matrix every move and swap of a pass is
evaluated at once from per-cluster column sums (:func:`best_step`): O(n²·k)
array work for the moves and O(n³/k) for the swaps — ~2 ms a pass at 100 units.

Sizes and balance bands (the model's integer-scaled rows) are kept at every
step; locked units (together, apart, fixed) never move. Deterministic: best
improvement, ties to the lowest index, a fixed pass cap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Passes cap (each applies one best move or swap). 100 units K = 8: ~20–60
#: passes until no improvement.
MAX_PASSES = 500
#: Stand-in cost of a forbidden pair: no improving step can use one (sums
#: stay exact in float64: 1e12 × n ≪ 2^53 for n ≤ 150).
FORBIDDEN = 1e12


def _cluster_costs(cols: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Cost of each cluster with its best medoid (``inf`` if empty)."""
    return np.where(member, cols, np.inf).min(axis=1)


def medoid_descent(
    cost: np.ndarray,
    labels: Sequence[int],
    k: int,
    min_size: int,
    max_size: int,
    bands: Sequence[tuple[np.ndarray, np.ndarray, int, int]] = (),
    locked: np.ndarray | None = None,
) -> list[int]:
    """Labels (0..k−1) improved by single moves and pairwise swaps.

    ``cost[i, m]`` is the integer pair cost (``inf`` = pair not allowed);
    ``bands`` holds, per balanced column, ``(ceil_scaled, floor_scaled, lo, hi)``:
    a cluster's ceil sum stays ≤ ``hi`` and its floor sum ≥ ``lo``.
    ``labels`` must already meet sizes and bands.
    """
    c = np.asarray(cost, dtype=np.float64)
    c = np.where(np.isfinite(c), c, FORBIDDEN)
    lab = np.asarray(labels, dtype=np.int64).copy()
    n = len(lab)
    lock = np.zeros(n, dtype=bool) if locked is None else np.asarray(locked, dtype=bool)
    member = np.zeros((k, n), dtype=bool)
    member[lab, np.arange(n)] = True
    cols = member.astype(np.float64) @ c  # cols[a, m] = Σ_{i in a} c[i, m]
    size = member.sum(axis=1)
    up = [np.bincount(lab, weights=b[0], minlength=k) for b in bands]
    down = [np.bincount(lab, weights=b[1], minlength=k) for b in bands]
    state = (c, lab, member, cols, size, bands, up, down)
    for _ in range(MAX_PASSES):
        step = best_step(c, lab, member, cols, size, min_size, max_size, bands, up, down, lock)
        if step is None:
            break
        i, b, j = step
        a = int(lab[i])
        _apply(state, i, b)
        if j >= 0:
            _apply(state, j, a)
    return lab.tolist()


def best_step(
    c: np.ndarray, lab: np.ndarray, member: np.ndarray, cols: np.ndarray, size: np.ndarray,
    min_size: int, max_size: int, bands, up, down, lock: np.ndarray,
) -> tuple[int, int, int] | None:
    """The best improving move ``(i, b, -1)`` or swap ``(i, lab[j], j)``, or None.

    Every move and swap of the pass at once (it was a Python loop over the units,
    ~0.1 s per descent at 100 units; the small path polishes ~25 plans). With
    integer costs the gains are integers, so "best" is the largest gain of at
    least 1 and ties go to the lowest ``i``, a move before a swap, then the
    lowest ``b`` or ``j`` — the order the loop used.

    A cluster's cost is its best medoid's column sum. Without ``i`` its sum for
    medoid ``m`` is ``cols[lab[i], m] − c[i, m]`` (``m`` still a member); with
    ``j`` added it gains ``c[j, m]`` and may take ``j`` itself as medoid. So a swap
    of ``i`` and ``j`` costs ``T[i, j] + T[j, i]``, ``T[i, j]`` being ``i``'s
    cluster after trading ``i`` for ``j``.
    """
    n, k = len(lab), len(size)
    units = np.arange(n)
    cur = _cluster_costs(cols, member)
    own = cols[lab] - c  # own[i, m]: i's cluster without i, medoid m
    base = np.where(member[lab] & (units[None, :] != units[:, None]), own, np.inf)
    without = base.min(axis=1)  # i's cluster without i (inf if i was alone)
    # --- moves: i's cluster loses i, cluster b gains it
    mask = np.broadcast_to(member[None, :, :], (n, k, n)).copy()
    mask[units, :, units] = True
    gained = np.where(mask, cols[None, :, :] + c[:, None, :], np.inf).min(axis=2)  # (n, k)
    move = cur[lab][:, None] + cur[None, :] - without[:, None] - gained
    ok = (size[None, :] < max_size) & (size[lab] - 1 >= min_size)[:, None]
    for (hi_v, lo_v, lo, hi), u, d in zip(bands, up, down):
        ok &= (u[None, :] + hi_v[:, None] <= hi) & (d[lab] - lo_v >= lo)[:, None]
    ok[units, lab] = False
    ok[lock] = False
    move = np.where(ok & np.isfinite(move), move, -np.inf)
    # --- swaps: T[i, j] over the medoids of i's cluster, then j itself as medoid
    traded = np.full((n, n), np.inf)
    for a in range(k):
        S = np.flatnonzero(lab == a)
        if len(S):
            traded[S] = (base[np.ix_(S, S)][:, None, :] + c[:, S][None, :, :]).min(axis=2)
    traded = np.minimum(traded, own + np.diag(c)[None, :])
    swap = cur[lab][:, None] + cur[lab][None, :] - traded - traded.T
    ok = (lab[:, None] != lab[None, :]) & (units[None, :] > units[:, None])
    ok &= ~lock[:, None] & ~lock[None, :]
    for (hi_v, lo_v, lo, hi), u, d in zip(bands, up, down):
        fits = ((u[lab] - hi_v)[:, None] + hi_v[None, :] <= hi) & (
            (d[lab] - lo_v)[:, None] + lo_v[None, :] >= lo)
        ok &= fits & fits.T
    swap = np.where(ok & np.isfinite(swap), swap, -np.inf)
    best_move, best_swap = move.max(axis=1), swap.max(axis=1)
    top = max(float(best_move.max(initial=-np.inf)), float(best_swap.max(initial=-np.inf)))
    if not top > 0.5:
        return None
    i = int(np.flatnonzero((best_move == top) | (best_swap == top))[0])
    if best_move[i] == top:
        return i, int(np.argmax(move[i])), -1
    j = int(np.argmax(swap[i]))
    return i, int(lab[j]), j


def _apply(state, i: int, b: int) -> None:
    """Move unit ``i`` to cluster ``b`` in every running total."""
    c, lab, member, cols, size, bands, up, down = state
    a = int(lab[i])
    lab[i] = b
    member[a, i], member[b, i] = False, True
    cols[a] -= c[i]
    cols[b] += c[i]
    size[a] -= 1
    size[b] += 1
    for (hi_v, lo_v, _, _), u, d in zip(bands, up, down):
        u[a] -= hi_v[i]
        u[b] += hi_v[i]
        d[a] -= lo_v[i]
        d[b] += lo_v[i]


def assign_to_medoids(
    cost: np.ndarray, medoids: Sequence[int], min_size: int, max_size: int
) -> list[int] | None:
    """Cheapest assignment of every unit to one of ``medoids`` with sizes in bounds.

    A transportation problem solved as a rectangular assignment: each medoid
    offers ``max_size`` slots, its first ``min_size`` with a bonus larger than
    any cost so they fill first. Returns labels (index into ``medoids``) or
    None when the sizes cannot be met. Why: the Lagrangian relaxation's
    chosen medoids are a good guess; this turns them into a plan.
    """
    from scipy.optimize import linear_sum_assignment

    c = np.asarray(cost, dtype=np.float64)
    n, k = len(c), len(medoids)
    if k * min_size > n or k * max_size < n:
        return None
    big = FORBIDDEN
    cols = np.where(np.isfinite(c[:, list(medoids)]), c[:, list(medoids)], big)
    slots = np.repeat(np.arange(k), max_size)
    bonus = np.tile(np.arange(max_size) < min_size, k) * big * 4
    rows, picked = linear_sum_assignment(cols[:, slots] - bonus[None, :])
    labels = np.empty(n, dtype=np.int64)
    labels[rows] = slots[picked]
    if np.any(cols[np.arange(n), labels] >= big) or np.any(np.bincount(labels, minlength=k) < min_size):
        return None
    return labels.tolist()
