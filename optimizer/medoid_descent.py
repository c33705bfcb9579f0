"""Best-improvement moves and swaps on the *medoid* objective (small tables).

Why: the large path's local search lowers the centroid sum of squares; the
exact model minimises the medoid objective (:mod:`optimizer.objective`), and
reduced-cost fixing is only as strong as the incumbent is close to the
optimum. On a dense ``n × n`` cost matrix a move or swap is evaluated for
every target at once from per-cluster column sums, so a pass costs O(n²·k)
array work — milliseconds at 100 units.

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
        cur = _cluster_costs(cols, member)
        best_gain, best = 0.0, None
        for i in range(n):
            if lock[i]:
                continue
            a = lab[i]
            # --- move i to b
            row = c[i]
            cols_a = cols[a] - row
            mem_a = member[a].copy()
            mem_a[i] = False
            new_a = np.where(mem_a, cols_a, np.inf).min() if size[a] > 1 else np.inf
            cols_b = cols + row[None, :]
            mem_b = member.copy()
            mem_b[:, i] = True
            new_b = np.where(mem_b, cols_b, np.inf).min(axis=1)
            gain = cur[a] + cur - new_a - new_b
            ok = (size < max_size) & (size[a] - 1 >= min_size)
            for (hi_v, lo_v, lo, hi), u, d in zip(bands, up, down):
                ok &= (u + hi_v[i] <= hi) & (d[a] - lo_v[i] >= lo)
            ok[a] = False
            gain = np.where(ok & np.isfinite(gain), gain, -np.inf)
            b = int(np.argmax(gain))
            if gain[b] > best_gain + 0.5:
                best_gain, best = float(gain[b]), (i, b, -1)
            # --- swap i with every j in another cluster
            js = np.nonzero((lab != a) & ~lock & (np.arange(n) > i))[0]
            if len(js) == 0:
                continue
            bs = lab[js]
            rows_j = c[js]  # (J, n)
            ca = cols_a[None, :] + rows_j  # cluster a without i, with j
            ma = np.broadcast_to(mem_a, ca.shape).copy()
            ma[np.arange(len(js)), js] = True
            na = np.where(ma, ca, np.inf).min(axis=1)
            cb = cols[bs] - rows_j + row[None, :]  # cluster b without j, with i
            mb = member[bs].copy()
            mb[np.arange(len(js)), js] = False
            mb[:, i] = True
            nb = np.where(mb, cb, np.inf).min(axis=1)
            g = cur[a] + cur[bs] - na - nb
            ok = np.ones(len(js), dtype=bool)
            for (hi_v, lo_v, lo, hi), u, d in zip(bands, up, down):
                ok &= (u[a] - hi_v[i] + hi_v[js] <= hi) & (d[a] - lo_v[i] + lo_v[js] >= lo)
                ok &= (u[bs] - hi_v[js] + hi_v[i] <= hi) & (d[bs] - lo_v[js] + lo_v[i] >= lo)
            g = np.where(ok & np.isfinite(g), g, -np.inf)
            t = int(np.argmax(g))
            if g[t] > best_gain + 0.5:
                best_gain, best = float(g[t]), (i, int(bs[t]), int(js[t]))
        if best is None:
            break
        i, b, j = best
        a = int(lab[i])
        _apply(state, i, b)
        if j >= 0:
            _apply(state, j, a)
    return lab.tolist()


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
