"""Make a seed partition meet the size and balance rules by moves and swaps.

Why: on thousands of units CP-SAT finds a *first* balanced plan slowly, and
pruned models lose balance feasibility (``benchmark-findings.md``). Balance is
a packing question that simple local moves answer well: move a unit from a
cluster over its band to a nearby cluster under it, or swap a big unit for a
small one between neighbouring clusters. Each step removes the most
violation (relative to the band, per balanced column, plus size excess), and
among equally good steps the one that hurts homogeneity least. The result is
only a warm start: CP-SAT and LNS check and improve it under every rule.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.band_lp import BandAssignmentLP
from optimizer.budget import (
    LP_WORK_PER_S,
    REPAIR_ALL_SCAN_WORK,
    REPAIR_BLOCK_NEIGHBOUR_WORK,
    REPAIR_CLUSTER_WORK,
    REPAIR_NEIGHBOUR_WORK,
    REPAIR_SCAN_WORK,
    REPAIR_STEP_WORK,
    REPAIR_WORK_PER_S,
    Clock,
)
from optimizer.data import ModelData
from optimizer.interrupts import RoundsInterrupted
from optimizer.problem import Problem

#: Each cluster looks for partners among this many nearest clusters (by centroid).
NEIGHBOUR_CLUSTERS = 8
#: The LP start is used up to this many (unit, centre) pairs; beyond, the greedy one.
LP_MAX_PAIRS = 120_000
#: Sparse LP: this share of the units (the biggest by balanced value) keeps every centre.
BIG_SHARE = 0.15
#: ... but those units' arcs stay below this many.
BIG_MAX_PAIRS = 200_000
#: The float band is tightened by this fraction of the mean so the integer model agrees.
BAND_MARGIN = 1e-6


def _violation(tot: np.ndarray, lo: np.ndarray, hi: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Violation of totals ``tot`` (..., C) against bands, in units of each column's mean."""
    return ((np.maximum(tot - hi, 0) + np.maximum(lo - tot, 0)) / scale).sum(axis=-1)


def balance_arrays(data: ModelData, k: int, n: int) -> tuple[np.ndarray, ...]:
    """Balanced values (n, C), per-cluster band ``lo``/``hi`` (margins in) and column means.

    Without balance rules: one zero column with an unbounded band, so the
    repair's arithmetic stays the same and only sizes matter.
    """
    if not data.balance:
        return np.zeros((n, 1)), np.array([-np.inf]), np.array([np.inf]), np.ones(1)
    V = np.column_stack([np.nan_to_num(c.values) for c in data.balance])
    bands = [c.band(k) for c in data.balance]
    mean = np.array([abs(c.values.sum()) / k or 1.0 for c in data.balance])
    lo = np.array([b[0] for b in bands]) + BAND_MARGIN * mean
    hi = np.array([b[1] for b in bands]) - BAND_MARGIN * mean
    return V, lo, hi, mean


def cluster_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """``k × features`` means of the clusters of ``labels`` (an empty cluster's row is 0)."""
    centres = np.zeros((k, X.shape[1]))
    np.add.at(centres, labels, X)
    return centres / np.maximum(np.bincount(labels, minlength=k), 1)[:, None]


def largest_shares(rows: np.ndarray, cols: np.ndarray, shares: np.ndarray, n: int) -> np.ndarray:
    """Each unit's cluster of largest share (ties: the first pair listed for the unit;
    −1 for a unit without a positive share)."""
    rows, cols, shares = np.asarray(rows), np.asarray(cols), np.asarray(shares)
    labels = np.full(n, -1, dtype=np.int64)
    if len(rows) == 0:
        return labels
    # by unit, then largest share, then listing order: each unit's first entry wins
    order = np.lexsort((np.arange(len(rows)), -shares, rows))
    first = order[np.r_[True, rows[order][1:] != rows[order][:-1]]]
    first = first[shares[first] > 0]
    labels[rows[first]] = cols[first]
    return labels


def repair_balance(
    problem: Problem, data: ModelData, k: int, labels: list[int], *, seconds: float,
    free: np.ndarray | None = None, max_work: int | None = None, clock: Clock | None = None,
) -> tuple[list[int], float]:
    """Moves/swaps toward every size and balance rule; returns labels and remaining violation.

    ``free`` (a mask) names the units that may move; the others (together
    blocks, apart groups, fixed labels) stay where they are. ``max_work``
    (unit pairs evaluated) ends the repair deterministically; ``seconds`` is
    then only a safety stop, marked on ``clock`` when it fires.
    """
    rules = problem.rules
    lab = np.asarray(labels, dtype=np.int64).copy()
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, len(lab))
    min_size = rules.min_size or 1
    max_size = rules.max_size or len(lab)
    movable = np.ones(len(lab), dtype=bool) if free is None else np.asarray(free, dtype=bool)
    allowance = math.inf if max_work is None else max_work
    lab, viol, steps = repair_arrays(X, V, lo, hi, mean, min_size, max_size, lab, k, movable=movable,
                                     allowance=allowance, end=time.monotonic() + seconds, clock=clock)
    repair_balance.last_steps = steps  # type: ignore[attr-defined]
    return lab.tolist(), viol


def repair_arrays(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray,
    min_size: int, max_size: int, lab: np.ndarray, k: int, *, movable: np.ndarray | None = None,
    allowance: float = math.inf, end: float = math.inf, clock: Clock | None = None,
) -> tuple[np.ndarray, float, int]:
    """The repair on plain arrays (labels changed in place); returns labels, violation, steps.

    Why separate: :mod:`optimizer.decompose` repairs each group of a split
    table with its own units and the whole table's bands, without building a
    sub-problem. ``lo``/``hi`` (per balanced column, margins included) bound
    every cluster's total; ``mean`` scales each column's violation.
    """
    if movable is None:
        movable = np.ones(len(lab), dtype=bool)

    def totals() -> np.ndarray:
        out = np.zeros((k, V.shape[1]))
        np.add.at(out, lab, V)
        return out

    tot = totals()
    size = np.bincount(lab, minlength=k)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, lab, X)
    steps = spent = 0
    tabu: set[int] = set()
    stuck: set[int] = set()
    while spent < allowance:
        if time.monotonic() >= end:
            if clock is not None:
                clock.mark()
            break
        step_work = step_overhead_work(len(lab), k)
        spent += step_work
        if clock is not None:
            clock.charge(step_work, REPAIR_WORK_PER_S)
        viol = _violation(tot, lo, hi, mean)
        viol = viol + np.maximum(size - max_size, 0) + np.maximum(min_size - size, 0)
        order = [c for c in np.argsort(-viol, kind="stable") if viol[c] > 0 and c not in tabu]
        if not order:
            break
        a = int(order[0])
        steps += 1
        centres = sums / np.maximum(size, 1)[:, None]
        reach = NEIGHBOUR_CLUSTERS if a not in stuck else k
        near = np.argsort(((centres - centres[a]) ** 2).sum(axis=1), kind="stable")[1 : reach + 1]
        A = np.flatnonzero((lab == a) & movable)
        # a stuck cluster looks at every other: all at once in numpy blocks (the same
        # choice as the loop, which took 7 s of wall for a repair charged 1 nominal s at
        # 10 000 units in 1 500 clusters, and the plan missed a 10-s limit)
        every = a in stuck and len(A) > 0
        finder = _best_among_all if every else _best_among_near
        best, sizes = finder(X, V, lo, hi, mean, min_size, max_size, lab, movable, tot, size,
                             centres, viol, a, near, A)
        found_work = finder_work(every, len(A), sizes)
        spent += found_work
        if clock is not None:
            clock.charge(found_work, REPAIR_WORK_PER_S)
        if best is None:
            if a in stuck:
                tabu.add(a)
            stuck.add(a)  # next time: look at every cluster, not just the nearest
            continue
        tabu.clear()
        stuck.discard(a)
        _, _, kind, i, j, b = best
        src = int(lab[i])
        if kind == "move":
            lab[i] = b
            tot[src] -= V[i]
            tot[b] += V[i]
            sums[src] -= X[i]
            sums[b] += X[i]
            size[src] -= 1
            size[b] += 1
        else:
            lab[i], lab[j] = b, a
            tot[a] += V[j] - V[i]
            tot[b] += V[i] - V[j]
            sums[a] += X[j] - X[i]
            sums[b] += X[i] - X[j]
    viol = _violation(tot, lo, hi, mean) + np.maximum(size - max_size, 0) + np.maximum(min_size - size, 0)
    return lab, float(viol.sum()), steps


def step_overhead_work(n: int, k: int) -> float:
    """Work charged for one repair step before its finder: the whole-table arrays
    (``n`` units) and the per-cluster bookkeeping (``k`` clusters); see budget.py."""
    return n * REPAIR_SCAN_WORK + REPAIR_STEP_WORK + k * REPAIR_CLUSTER_WORK


def finder_work(every: bool, n_moving: int, sizes: np.ndarray) -> float:
    """Work charged for one finder call: its unit pairs (``n_moving`` units of the
    cluster against each neighbour's ``sizes``) plus its overhead — per neighbour for
    the loop over the nearest, per call and a little per neighbour for the numpy scan
    of every cluster (``every``). Measured rates in budget.py."""
    pairs = float(n_moving) * float(np.sum(sizes))
    if every:
        return pairs + REPAIR_ALL_SCAN_WORK + len(sizes) * REPAIR_BLOCK_NEIGHBOUR_WORK
    return pairs + len(sizes) * REPAIR_NEIGHBOUR_WORK


def _best_among_near(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray,
    min_size: int, max_size: int, lab: np.ndarray, movable: np.ndarray, tot: np.ndarray,
    size: np.ndarray, centres: np.ndarray, viol: np.ndarray, a: int, near: np.ndarray,
    A: np.ndarray,
) -> tuple[tuple | None, np.ndarray]:
    """The repair's best step for cluster ``a`` (movable units ``A``) among the clusters
    ``near``: each one's best move out, move in and swap that lowers the violation (ties:
    the least loss of homogeneity), the first strictly better in ``near`` order. Returns
    the step ``(gain, -cost, kind, i, j, b)`` or None, and each neighbour's count of
    movable units (the caller charges the work)."""
    best = None
    sizes: list[int] = []
    for b in near.tolist():
        B = np.flatnonzero((lab == b) & movable)
        sizes.append(len(B))
        if len(A) == 0 or len(B) == 0:
            continue
        base = viol[a] + viol[b]
        dA = ((X[A] - centres[b]) ** 2).sum(1) - ((X[A] - centres[a]) ** 2).sum(1)
        dB = ((X[B] - centres[a]) ** 2).sum(1) - ((X[B] - centres[b]) ** 2).sum(1)
        # move i from a to b
        if size[a] > min_size and size[b] < max_size or size[a] > max_size:
            na, nb = tot[a] - V[A], tot[b] + V[A]
            after = _violation(na, lo, hi, mean) + _violation(nb, lo, hi, mean)
            after = after + _size_pen(size[a] - 1, size[b] + 1, min_size, max_size)
            gain = base - after
            idx = int(np.argmax(gain - 1e-9 * dA))
            if gain[idx] > 1e-12 and (best is None or (gain[idx], -dA[idx]) > best[:2]):
                best = (float(gain[idx]), float(-dA[idx]), "move", int(A[idx]), -1, b)
        # move j from b to a (a under its band or under min size)
        if size[b] > min_size and size[a] < max_size or size[a] < min_size:
            na, nb = tot[a] + V[B], tot[b] - V[B]
            after = _violation(na, lo, hi, mean) + _violation(nb, lo, hi, mean)
            after = after + _size_pen(size[a] + 1, size[b] - 1, min_size, max_size)
            gain = base - after
            idx = int(np.argmax(gain - 1e-9 * dB))
            if gain[idx] > 1e-12 and (best is None or (gain[idx], -dB[idx]) > best[:2]):
                best = (float(gain[idx]), float(-dB[idx]), "move", int(B[idx]), -1, a)
        # swap i in a with j in b
        delta = V[B][None, :, :] - V[A][:, None, :]
        after = _violation(tot[a] + delta, lo, hi, mean) + _violation(tot[b] - delta, lo, hi, mean)
        after = after + _size_pen(size[a], size[b], min_size, max_size)
        gain = base - after
        cost = dA[:, None] + dB[None, :]
        score = gain - 1e-9 * cost
        flat = int(np.argmax(score))
        i, j = divmod(flat, len(B))
        if gain[i, j] > 1e-12 and (best is None or (gain[i, j], -cost[i, j]) > best[:2]):
            best = (float(gain[i, j]), float(-cost[i, j]), "swap", int(A[i]), int(B[j]), b)
    return best, np.asarray(sizes, dtype=np.int64)


#: Most (unit in a) × (unit elsewhere) × column entries one block of the scan over
#: every cluster holds (memory, ~32 MB of float64).
ALL_SCAN_BLOCK = 4_000_000


def _best_among_all(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray,
    min_size: int, max_size: int, lab: np.ndarray, movable: np.ndarray, tot: np.ndarray,
    size: np.ndarray, centres: np.ndarray, viol: np.ndarray, a: int, near: np.ndarray,
    A: np.ndarray,
) -> tuple[tuple | None, np.ndarray]:
    """The repair's best step for cluster ``a`` among the clusters ``near``, in numpy blocks.

    Exactly the loop's choice — the same arithmetic per pair, each cluster's best
    move out, move in and swap by first maximum, the first strictly better one in
    ``near`` order — so plans do not change; only the Python loop over a stuck
    cluster's every neighbour (~70 µs each) goes. Returns the step (or None) and
    each neighbour's count of movable units, which the caller charges.
    """
    m = len(near)
    position = np.full(len(size), -1, dtype=np.int64)
    position[near] = np.arange(m)
    others = np.flatnonzero(movable & (position[lab] >= 0))
    others = others[np.argsort(position[lab[others]], kind="stable")]  # by near, then unit
    group = position[lab[others]]
    sizes = np.bincount(group, minlength=m)
    best = None
    xa = X[A]
    own_a = ((xa - centres[a]) ** 2).sum(1)
    na_out = _violation(tot[a] - V[A], lo, hi, mean)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    first = 0
    while first < m:
        # one neighbour at least, then as many as keep the swap matrix in ALL_SCAN_BLOCK
        last = first + 1
        while last < m and len(A) * (ends[last] - starts[first]) * V.shape[1] <= ALL_SCAN_BLOCK:
            last += 1
        span = slice(starts[first], ends[last - 1])
        best = _best_in_block(X, V, lo, hi, mean, min_size, max_size, tot, size, centres, viol,
                              a, near[first:last], A, xa, own_a, na_out, others[span],
                              group[span] - first, sizes[first:last], best)
        first = last
    return best, sizes


def _best_in_block(X, V, lo, hi, mean, min_size, max_size, tot, size, centres, viol, a, near,
                   A, xa, own_a, na_out, B, group, sizes, best):
    """:func:`_best_among_all` for one block of neighbours (``group``: each unit of ``B``'s
    position in ``near``); ``best`` is the step so far, returned improved or as is."""
    m = len(near)
    base = viol[a] + viol[near]
    sb = size[near]
    sa = int(size[a])
    dA = ((xa[:, None, :] - centres[near][None, :, :]) ** 2).sum(2) - own_a[:, None]  # |A| × m
    bj = near[group]
    dB = ((X[B] - centres[a]) ** 2).sum(1) - ((X[B] - centres[bj]) ** 2).sum(1)

    def pen(sa_, sb_):
        return (max(sa_ - max_size, 0) + max(min_size - sa_, 0)
                + np.maximum(sb_ - max_size, 0) + np.maximum(min_size - sb_, 0)).astype(float)

    # move i from a to b
    out_ok = (sa > min_size) & (sb < max_size) | (sa > max_size)
    after = na_out[None, :] + _violation(tot[near][:, None, :] + V[A][None, :, :], lo, hi, mean)
    gain_out = base[:, None] - (after + pen(sa - 1, sb + 1)[:, None])  # m × |A|
    pick_out = np.argmax(gain_out - 1e-9 * dA.T, axis=1)
    # move j from b to a
    in_ok = (sb > min_size) & (sa < max_size) | (sa < min_size)
    after = _violation(tot[a] + V[B], lo, hi, mean) + _violation(tot[bj] - V[B], lo, hi, mean)
    gain_in = base[group] - (after + pen(sa + 1, sb - 1)[group])
    pick_in = _first_max_by_group(gain_in - 1e-9 * dB, group, m)
    # swap i in a with j in b
    delta = V[B][None, :, :] - V[A][:, None, :]
    after = (_violation(tot[a] + delta, lo, hi, mean)
             + _violation(tot[bj][None, :, :] - delta, lo, hi, mean))
    gain_sw = base[group][None, :] - (after + pen(sa, sb)[group][None, :])
    cost = dA[:, group] + dB[None, :]
    score = gain_sw - 1e-9 * cost
    segmax = np.full(m, -np.inf)
    np.maximum.at(segmax, group, score.max(axis=0))
    # the first maximum in row-major order, as argmax over one neighbour's |A| × |B| block
    rows, cols = np.nonzero(score == segmax[group][None, :])
    _, firsts = np.unique(group[cols], return_index=True)
    pick_sw = np.full(m, -1)
    pick_sw[group[cols[firsts]]] = firsts
    for p in range(m):
        if sizes[p] == 0:
            continue
        b = int(near[p])
        if out_ok[p]:
            idx = int(pick_out[p])
            g = float(gain_out[p, idx])
            if g > 1e-12 and (best is None or (g, float(-dA[idx, p])) > best[:2]):
                best = (g, float(-dA[idx, p]), "move", int(A[idx]), -1, b)
        if in_ok[p]:
            j = int(pick_in[p])
            g = float(gain_in[j])
            if g > 1e-12 and (best is None or (g, float(-dB[j])) > best[:2]):
                best = (g, float(-dB[j]), "move", int(B[j]), -1, a)
        hit = int(pick_sw[p])
        if hit < 0:  # no finite score (NaN values): no swap, as argmax's NaN fails the gain test
            continue
        i, j = int(rows[hit]), int(cols[hit])
        g = float(gain_sw[i, j])
        if g > 1e-12 and (best is None or (g, float(-cost[i, j])) > best[:2]):
            best = (g, float(-cost[i, j]), "swap", int(A[i]), int(B[j]), b)
    return best


def _first_max_by_group(score: np.ndarray, group: np.ndarray, m: int) -> np.ndarray:
    """Per group (sorted ``group`` ids in 0..m-1), the index of its first maximum."""
    segmax = np.full(m, -np.inf)
    np.maximum.at(segmax, group, score)
    hits = np.flatnonzero(score == segmax[group])
    out = np.full(m, -1)
    _, firsts = np.unique(group[hits], return_index=True)
    out[group[hits[firsts]]] = hits[firsts]
    return out


def _size_pen(sa: int, sb: int, min_size: int, max_size: int) -> float:
    return float(max(sa - max_size, 0) + max(min_size - sa, 0) + max(sb - max_size, 0) + max(min_size - sb, 0))


def greedy_balanced(problem: Problem, data: ModelData, k: int, seed_labels: list[int]) -> list[int]:
    """Deal units, biggest first, to the nearest seed centre that still has room.

    "Room" means the cluster stays under ``max_size`` and under the top of
    every balance band. Big units placed first cannot be stranded; small ones
    fill the gaps. Once the units left are just enough to lift every small
    cluster to ``min_size``, only those clusters may take them. What remains
    violated (usually a few clusters under their band) is left to
    :func:`repair_balance`.
    """
    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    seed = np.asarray(seed_labels, dtype=np.int64)
    centres = cluster_means(X, seed, k)
    n = len(seed)
    V = np.column_stack([np.nan_to_num(c.values) for c in data.balance])
    mean = np.array([abs(c.values.sum()) / k or 1.0 for c in data.balance])
    hi = np.array([c.band(k)[1] for c in data.balance]) - BAND_MARGIN * mean
    order = np.argsort(-(V / mean).sum(axis=1), kind="stable")
    max_size = rules.max_size or n
    min_size = rules.min_size or 1
    tot = np.zeros((k, V.shape[1]))
    size = np.zeros(k, dtype=np.int64)
    lab = np.full(n, -1, dtype=np.int64)
    sq = np.einsum("ij,ij->i", centres, centres)
    for left, i in zip(range(n, 0, -1), order.tolist()):
        d = sq - 2.0 * centres @ X[i]
        short = np.maximum(min_size - size, 0)
        room = size < max_size
        if short.sum() >= left:
            room &= short > 0
        fits = room & np.all(tot + V[i] <= hi, axis=1)
        if fits.any():
            c = int(np.argmin(np.where(fits, d, np.inf)))
        elif room.any():
            over = ((np.maximum(tot + V[i] - hi, 0)) / mean).sum(axis=1)
            c = int(np.argmin(np.where(room, over, np.inf)))
        else:
            c = int(np.argmin(size))
        lab[i] = c
        tot[c] += V[i]
        size[c] += 1
    return lab.tolist()


def lp_balanced(
    problem: Problem, data: ModelData, k: int, seed_labels: list[int], *, rounds: int = 2,
    nearest: int | None = None, keep: list[int] | None = None, seconds: float | None = None,
    max_work: int | None = None, clock: Clock | None = None,
) -> list[int] | None:
    """Balanced assignment to the seed's centres by linear programming, rounded.

    Every (unit, centre) pair is an LP column (restricting units to their
    nearest centres made the LP infeasible on the synthetic tables, as the
    benchmark found), so this is for ``n × k ≤ LP_MAX_PAIRS``; beyond, ``nearest``
    keeps each unit's nearest centres, each centre's ``3 × max_size`` nearest units
    and the arcs of ``keep`` (a plan meeting every rule, so the LP stays feasible;
    and the biggest :data:`BIG_SHARE` of units keep every centre: measured at 3 300 units, 0.350 with them, 0.403 without, after repair).
    ``seconds`` caps the whole call (HiGHS time limit). Sizes and every
    balance band are LP rows; the cost is the squared distance to the
    centre. A basic solution splits few units, so rounding each unit to its
    largest share leaves little for :func:`repair_balance`. Centres then move
    to the new clusters' means and the LP is solved again (``rounds`` in
    all), warm from the round before (:mod:`optimizer.band_lp`: one model,
    the arcs of every round so far). Returns None when the LP is infeasible.
    ``max_work`` (LP work: simplex iterations × columns plus a set-up per
    column, summed over rounds) decides how many rounds run, deterministically
    (with ``keep`` not even the first unless its estimate fits); ``seconds``
    is then a safety stop, marked on ``clock`` when it fires.
    """
    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    n = len(seed_labels)
    lab = np.asarray(seed_labels, dtype=np.int64)
    min_size = rules.min_size or 0
    max_size = rules.max_size or n
    V, lo, hi, mean = balance_arrays(data, k, n)
    end = time.monotonic() + seconds if seconds is not None else math.inf
    allowance = math.inf if max_work is None else max_work
    best = None
    spent, last_work, last_wall = 0.0, None, 0.0
    lp = BandAssignmentLP(n, k, V, lo, hi, min_size, max_size)
    try:
        for _ in range(rounds):
            # the safety stop: no round that would end past it (the rounding still needs
            # its repair: 1 500 units, 2 s, every allowance unlimited — the rounds ran to the
            # stop and the start had no plan, 1 run in ~4 of the test suite's beside a busy core)
            if time.monotonic() + last_wall >= end - 0.05:
                if clock is not None:
                    clock.mark()
                break
            round_started = time.monotonic()
            centres = cluster_means(X, lab, k)
            d = (
                np.einsum("ij,ij->i", X, X)[:, None]
                + np.einsum("ij,ij->i", centres, centres)[None, :]
                - 2.0 * X @ centres.T
            )
            if nearest is None or nearest >= k:
                rows, cols = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
            else:
                # each unit's nearest centres plus its own cluster (so the current plan stays a column)
                near = np.argpartition(d, nearest, axis=1)[:, :nearest]
                per_centre = min(n, 3 * max_size)
                # ... and the biggest units may go anywhere: centres of small units
                # need them to reach the band (nearest-only arcs made the LP infeasible)
                weight = (np.abs(V) / mean).sum(axis=1) if data.balance else np.zeros(n)
                n_big = min(math.ceil(BIG_SHARE * n), BIG_MAX_PAIRS // k) if data.balance else 0
                big = np.argsort(-weight, kind="stable")[:n_big]
                pairs = np.unique(np.concatenate([
                    np.repeat(np.arange(n), nearest) * k + near.ravel(), np.arange(n) * k + lab,
                    (big[:, None] * k + np.arange(k)[None, :]).ravel(),
                    np.arange(n) * k + (np.asarray(keep) if keep is not None else lab),
                    # every centre reaches enough units to fill itself
                    (np.argpartition(d, per_centre - 1, axis=0)[:per_centre] * k + np.arange(k)[None, :]).ravel(),
                ]))
                rows, cols = pairs // k, pairs % k
            lp.add_arcs(rows, cols)
            # the first round's work is estimated from the LP's size (columns × rows,
            # as HiGHS's cold solve grows), a later one's from the round before it
            # (warm: 3 300 units F, 2 100 → 900 simplex iterations by the sixth round)
            estimate = last_work if last_work is not None else lp.n_arcs * lp.n_rows
            # the first round runs even over the allowance when it is the only way to
            # a plan; with ``keep`` (a plan in hand) it is only an improvement, skipped
            # when unaffordable: 10 000 units, sizes and a `together` group, 30 s: one
            # round was charged 23 of the 26 nominal s and nothing was left to place
            # the group (no plan, exit 3)
            if (best is not None or keep is not None) and spent + estimate > allowance:
                break
            solved = lp.solve(d, time_limit=max(end - time.monotonic(), 0.05))
            last_work, last_wall = solved.work, time.monotonic() - round_started
            spent += solved.work
            if clock is not None:
                clock.charge(solved.work, LP_WORK_PER_S)
            if solved.x is None:
                if solved.timed_out and clock is not None:
                    clock.mark()  # HiGHS stopped on its (safety) time limit
                return best
            new = largest_shares(solved.rows, solved.cols, solved.x, n)
            best = new.tolist()
            if np.array_equal(new, lab):
                break  # converged: the centres will not move again
            lab = new
    except KeyboardInterrupt:
        raise RoundsInterrupted(best) from None
    return best
