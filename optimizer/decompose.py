"""A balanced start for very large tables: split into groups of whole clusters, solve each.

Why: at 50 000 units and 500 clusters the LP over every (unit, centre) pair
has 25 M columns, the sparse LP on each unit's nearest centres is infeasible
(``benchmark-findings.md``) and biggest-first dealing left 458 of 500
clusters outside their band, more than the repair could mend in ten
minutes. Yet the same problem on ~800 units and ~8 clusters is easy: the
dense LP plus repair solves it in a fraction of a second. So the table is cut
recursively along its main directions of spread into two parts whose unit
counts and balanced totals fit whole numbers of clusters (the same problem
one level up, with the bands scaled by the cluster count); the cut chosen
keeps each part's average total nearest the band's middle, leaving slack for
the next cut. Each leaf is solved by alternating a dense LP assignment with
centre updates (k-means-constrained's method with the bands as LP rows), and
repaired. Group borders cost a little homogeneity; the local search and LNS
that follow work across them.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.band_lp import BandAssignmentLP
from optimizer.budget import LP_WORK_PER_S, REPAIR_WORK_PER_S, Clock
from optimizer.data import ModelData
from optimizer.interrupts import StartInterrupted
from optimizer.local_search import sse
from optimizer.problem import Problem
from optimizer.repair import (
    balance_arrays,
    cluster_means,
    largest_shares,
    repair_arrays,
)

#: Groups of at most this many clusters are solved directly. Measured at
#: 10 000 units, K = 200, LP allowance 17.6 nominal s (dispersion of the start,
#: wall time loaded): groups of 3–4 clusters 0.381 (6 s), 6–7 0.354 (10 s),
#: 12–13 0.343 (27 s), 25 0.336 (19 s), 50 0.338 (16 s, one LP round each).
LEAF_CLUSTERS = 32
#: Directions tried for each cut: the part's leading principal axes.
CUT_AXES = 3
#: A cut on the first axis is taken when its parts' averages sit within this
#: share of the half band from the middle; otherwise the most central axis wins.
CENTRAL_ENOUGH = 0.25
#: Units each side of a cut that may be swapped to even the totals out:
#: this share of the part (at least ``SWAP_WINDOW_MIN``).
SWAP_WINDOW = 0.1
SWAP_WINDOW_MIN = 50
#: In the estimate of a group's first LP round (and of the regroup's rounds before
#: they run), the work of a call on top of columns × rows: scipy's set-up, when every
#: round was charged so (335 group LPs of ~310 units × 6 centres: 9.9 s wall,
#: loaded, vs 4.2 s charged without it). Rounds are charged what they cost.
LP_CALL_WORK = 1_000_000
#: Share of the allowance for solving the split's groups; :func:`regroup` gets the rest.
SPLIT_PART = 0.5
#: Regrouping passes at most, and LP rounds per regrouped group (measured at
#: 10 000 units: three rounds gain most of what the rounds to convergence do).
REGROUP_PASSES = 8
REGROUP_CLUSTERS = 8
REGROUP_ROUNDS = 3
#: Lloyd iterations of a group's k-means start at most.
KMEANS_ITERATIONS = 20
#: LP assignment / centre update rounds per group at most (stop when nothing changes).
LEAF_ROUNDS = 30


def split_groups(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, k: int,
    min_size: int, max_size: int, leaf: int = LEAF_CLUSTERS,
) -> list[tuple[np.ndarray, int]] | None:
    """Unit index groups with their cluster counts, each able to hold whole clusters.

    A group of ``g`` clusters has between ``g·min_size`` and ``g·max_size``
    units and balanced totals within ``g·lo`` .. ``g·hi`` (per column). None
    when some part has no such cut along any axis tried (the caller falls back).
    """
    out: list[tuple[np.ndarray, int]] = []
    stack = [(np.arange(len(X)), k)]
    while stack:
        idx, kk = stack.pop()
        if kk <= leaf:
            out.append((idx, kk))
            continue
        cut = _best_cut(X[idx], V[idx], lo, hi, kk // 2, kk - kk // 2, min_size, max_size)
        if cut is None:
            return None
        left, right = cut
        stack.append((idx[right], kk - kk // 2))
        stack.append((idx[left], kk // 2))
    return out


def _best_cut(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, k1: int, k2: int,
    min_size: int, max_size: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions (left, right) of the most central cut found, or None.

    Along each axis the units are ordered and cut at the count proportional
    to ``k1``; then units on either side of the cut are swapped, big for
    small, until the balanced totals are proportional too. A plain cut by
    position failed at 10 000 units: parts left at the edge of their band
    (1.085 × the middle) could not be cut again.
    """
    m = len(X)
    first = max(k1 * min_size, m - k2 * max_size)
    last = min(k1 * max_size, m - k2 * min_size)
    if first > last or first < 1 or last > m - 1:
        return None
    cut = min(max(round(m * k1 / (k1 + k2)), first), last)
    mid, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 1e-300)
    total = V.sum(axis=0)
    scale = np.where(np.isfinite(mid) & (np.abs(mid) > 0), np.abs(mid), 1.0)
    weight = (V / scale).sum(axis=1)
    centred = X - X.mean(axis=0)
    # cut along directions that carry no balanced weight (linearly): along the
    # log-population axis one side would take every big unit (excess of 3.8
    # clusters' worth in 13 at 10 000 units, beyond what swaps next to the cut fix)
    # (small d × d systems: an SVD / lstsq of the m × d matrix took 0.1 s each, loaded)
    cov = centred.T @ centred
    beta = np.linalg.pinv(cov) @ (centred.T @ (weight - weight.mean()))
    if np.linalg.norm(beta) > 0:
        beta /= np.linalg.norm(beta)
        centred = centred - np.outer(centred @ beta, beta)
    vt = _principal_axes(centred)
    best = None  # (deviation, left, right)
    for window in (SWAP_WINDOW, 1.0):
        for a in range(min(CUT_AXES, vt.shape[0])):
            order = np.argsort(centred @ vt[a], kind="stable")
            left, right = _even_out(order[:cut].copy(), order[cut:].copy(), weight,
                                    k1 / (k1 + k2), window)
            run = V[left].sum(axis=0)
            dev = np.maximum(np.abs(run / k1 - mid) / half, np.abs((total - run) / k2 - mid) / half)
            dev = float(np.nan_to_num(dev, nan=0.0, posinf=np.inf).max())
            if dev <= 1.0 and (best is None or dev < best[0]):
                best = (dev, left, right)
            if best is not None and a == 0 and best[0] <= CENTRAL_ENOUGH:
                break  # the main direction of spread keeps groups most homogeneous
        if best is not None:
            break
    return None if best is None else (best[1], best[2])


def _even_out(left: np.ndarray, right: np.ndarray, weight: np.ndarray, share: float, window: float):
    """Swap units next to the cut (big for small) until ``left`` holds ``share`` of the weight.

    ``left`` ends, ``right`` starts at the cut (projection order), so the
    swapped units are the ones nearest the other side: homogeneity suffers least.
    """
    excess = weight[left].sum() - share * weight.sum()
    if excess == 0:
        return left, right
    width = min(len(left), len(right), max(SWAP_WINDOW_MIN, int(window * (len(left) + len(right)))))
    lw, rw = np.arange(len(left) - width, len(left)), np.arange(width)
    if excess > 0:  # give big left units for small right ones
        lw = lw[np.argsort(-weight[left[lw]], kind="stable")]
        rw = rw[np.argsort(weight[right[rw]], kind="stable")]
    else:
        lw = lw[np.argsort(weight[left[lw]], kind="stable")]
        rw = rw[np.argsort(-weight[right[rw]], kind="stable")]
    j = 0
    for i in lw.tolist():
        if j >= len(rw) or abs(excess) <= 1e-12:
            break
        t = weight[left[i]] - weight[right[rw[j]]]  # moves from left to right
        if abs(excess - t) < abs(excess):
            left[i], right[rw[j]] = right[rw[j]], left[i]
            excess -= t
            j += 1
    return left, right


def solve_group(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray, g: int,
    min_size: int, max_size: int, *, lp_work: float, repair_work: float,
    clock: Clock | None = None, end: float = math.inf,
) -> tuple[np.ndarray, float]:
    """Labels 0..g-1 for one group: k-means, LP assignment / centre rounds, repair.

    ``lp_work`` (LP work, summed over rounds: :mod:`optimizer.band_lp`) decides how many
    rounds run after the first; ``repair_work`` bounds the repair. Returns
    the labels and the violation left (0 when every cluster fits).
    """
    lab = np.zeros(len(X), dtype=np.int64)
    if g > 1:
        lab, _ = _lp_rounds(X, V, lo, hi, g, min_size, max_size, _kmeans(X, g), LEAF_ROUNDS,
                            lp_work, clock, end)
    lab, left, _ = repair_arrays(X, V, lo, hi, mean, min_size, max_size, lab, g,
                                 allowance=repair_work, end=end, clock=clock)
    return lab, left


def _lp_cost(m: int, g: int, columns: int) -> float:
    """An estimate of a cold LP round's work: columns × rows plus the call's set-up
    (what a round was charged through scipy; warm rounds are charged what they cost)."""
    return m * g * (m + 2 * g * (1 + columns)) + LP_CALL_WORK


def _lp_rounds(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, g: int, min_size: int,
    max_size: int, lab: np.ndarray, rounds: int, lp_work: float, clock: Clock | None, end: float,
) -> tuple[np.ndarray, float]:
    """Alternate LP assignment and centre updates from ``lab``; returns labels and work spent.

    One LP model, re-solved warm each round (:mod:`optimizer.band_lp`: 310
    units × 6 clusters, 67 ms a round through scipy, 3–5 ms so). The first
    round always runs; a later one while ``lp_work`` still holds the work of
    the round before it (the first is estimated by :func:`_lp_cost`).
    """
    m = len(X)
    spent, estimate = 0.0, _lp_cost(m, g, V.shape[1])
    lp = BandAssignmentLP(m, g, V, lo, hi, min_size, max_size)
    lp.add_arcs(np.repeat(np.arange(m), g), np.tile(np.arange(g), m))
    for _ in range(rounds):
        if spent > 0 and time.monotonic() >= end:
            if clock is not None:
                clock.mark()  # the safety stop, not the allowance, ended the rounds
            break
        if spent > 0 and spent + estimate > lp_work:
            break
        centres = cluster_means(X, lab, g)
        solved = lp.solve(((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
        spent += solved.work
        estimate = solved.work
        if clock is not None:
            clock.charge(solved.work, LP_WORK_PER_S)
        if solved.x is None:
            break
        new = largest_shares(solved.rows, solved.cols, solved.x, m)
        if np.array_equal(new, lab):
            break
        lab = new
    return lab, spent


def lp_rounds(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, g: int, min_size: int,
    max_size: int, lab: np.ndarray, rounds: int,
) -> tuple[np.ndarray, float]:
    """Up to ``rounds`` LP assignment / centre rounds from ``lab`` (no allowance); labels and
    the LP work they cost (at :data:`optimizer.budget.LP_WORK_PER_S`).

    For callers that do their own accounting (:mod:`optimizer.band_regions`).
    """
    return _lp_rounds(X, V, lo, hi, g, min_size, max_size, lab, rounds, math.inf, None, math.inf)


def regroup(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray,
    labels: np.ndarray, k: int, min_size: int, max_size: int, *, lp_work: float,
    clock: Clock | None = None, end: float = math.inf,
) -> tuple[np.ndarray, int]:
    """Re-solve groups of neighbouring clusters across the split's borders; returns labels, gains.

    Why: the split fixes which clusters a unit may join; grouping the
    clusters anew (k-means on their centres, a different start axis each
    pass) and re-running the LP rounds on each group's units lets border
    units move. A group's new plan is kept when it meets every band and lowers
    the sum of squares. Measured at 10 000 units, K = 200: 0.336 → 0.328 →
    0.325 → 0.324 over three passes (~15 nominal s each). Passes run while
    ``lp_work`` lasts (a pass may stop part-way) or until one gains nothing.
    """
    lab = labels.copy()
    n_groups = max(k // REGROUP_CLUSTERS, 1)
    spent, gains = 0.0, 0
    try:
        for p in range(REGROUP_PASSES):
            sums = np.zeros((k, X.shape[1]))
            np.add.at(sums, lab, X)
            group_of = _kmeans(sums / np.maximum(np.bincount(lab, minlength=k), 1)[:, None], n_groups,
                               axis=p % CUT_AXES)
            before = gains
            for grp in range(n_groups):
                cl = np.flatnonzero(group_of == grp)
                idx = np.flatnonzero(np.isin(lab, cl))
                cost = REGROUP_ROUNDS * _lp_cost(len(idx), len(cl), V.shape[1])
                if spent + cost > lp_work or time.monotonic() >= end:
                    if time.monotonic() >= end and clock is not None:
                        clock.mark()
                    return lab, gains
                if len(cl) < 2:
                    continue
                old = np.searchsorted(cl, lab[idx])
                new, used = _lp_rounds(X[idx], V[idx], lo, hi, len(cl), min_size, max_size, old,
                                       REGROUP_ROUNDS, math.inf, clock, end)
                spent += used
                new, left, _ = repair_arrays(X[idx], V[idx], lo, hi, mean, min_size, max_size, new,
                                             len(cl), allowance=used / LP_WORK_PER_S * REPAIR_WORK_PER_S,
                                             end=end, clock=clock)
                if left == 0.0 and sse(X[idx], new, len(cl)) < sse(X[idx], old, len(cl)) - 1e-9:
                    lab[idx] = cl[new]
                    gains += 1
            if gains == before:
                break
        return lab, gains
    except KeyboardInterrupt:
        # ``lab`` changes only by whole groups that meet every band: a plan
        raise StartInterrupted(lab, 0.0) from None


def _principal_axes(centred: np.ndarray) -> np.ndarray:
    """Rows: the principal axes of centred data, most spread first (sign fixed for determinism)."""
    vals, vecs = np.linalg.eigh(centred.T @ centred)
    vt = vecs[:, np.argsort(-vals, kind="stable")].T
    return vt * np.where(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)] < 0, -1.0, 1.0)[:, None]


def _kmeans(X: np.ndarray, g: int, axis: int = 0) -> np.ndarray:
    """Lloyd's k-means from ``g`` equal slices along a principal axis; deterministic, no threads.

    Only a start for the LP rounds, which move the centres again; scikit-learn's
    KMeans took 0.23 s per 300-unit group on the shared machine (threads).
    """
    axes = _principal_axes(X - X.mean(axis=0))
    order = np.argsort((X - X.mean(axis=0)) @ axes[min(axis, len(axes) - 1)], kind="stable")
    lab = np.empty(len(X), dtype=np.int64)
    lab[order] = np.arange(len(X)) * g // len(X)
    for _ in range(KMEANS_ITERATIONS):
        centres = cluster_means(X, lab, g)
        new = np.argmin(((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        if np.array_equal(new, lab):
            break
        lab = new
    return lab


def decompose_balanced(
    problem: Problem, data: ModelData, k: int, *, max_work: float, seconds: float,
    clock: Clock | None = None, groups: list[tuple[np.ndarray, int]] | None = None,
) -> tuple[list[int], float] | None:
    """A plan from :func:`split_groups` (or the caller's ``groups``) + :func:`solve_group`;
    None when no split exists.

    ``max_work`` is shared equally by the groups (LP work at
    ``LP_WORK_PER_S``; each group's repair gets as many nominal seconds at
    ``REPAIR_WORK_PER_S``), so the plan does not depend on the machine;
    ``seconds`` is only a safety stop, marked on ``clock`` when it fires.
    Returns the labels and the violation left (0 when every group fit).
    """
    rules = problem.rules
    n = data.n
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, n)
    min_size, max_size = rules.min_size or 1, rules.max_size or n
    if groups is None:
        groups = split_groups(X, V, lo, hi, k, min_size, max_size, LEAF_CLUSTERS)
    if groups is None:
        return None
    end = time.monotonic() + seconds
    share = SPLIT_PART * max_work / len(groups)
    labels = np.full(n, -1, dtype=np.int64)
    violation, offset = 0.0, 0
    hurry = False  # after Ctrl-C: each group left gets its first LP round only
    for idx, g in groups:
        if time.monotonic() >= end and clock is not None and not hurry:
            clock.mark()
            if clock.expired():
                # past the count's own deadline too: the groups left cannot be solved in
                # time (50 000 units in 7 000 clusters, 10 s: 219 groups ran to 13 s)
                return None
        try:
            lab, left = solve_group(X[idx], V[idx], lo, hi, mean, g, min_size, max_size,
                                    lp_work=0.0 if hurry else share,
                                    repair_work=share / LP_WORK_PER_S * REPAIR_WORK_PER_S,
                                    clock=clock, end=end)
        except KeyboardInterrupt:
            if hurry:
                raise  # a second Ctrl-C: give up
            hurry = True
            lab, left = solve_group(X[idx], V[idx], lo, hi, mean, g, min_size, max_size,
                                    lp_work=0.0,
                                    repair_work=share / LP_WORK_PER_S * REPAIR_WORK_PER_S,
                                    clock=clock, end=end)
        labels[idx] = lab + offset
        offset += g
        violation += left
    if hurry:
        raise StartInterrupted(labels, violation)
    if violation == 0.0 and len(groups) > 1:
        # (Ctrl-C inside: StartInterrupted with its plan in hand)
        labels, _ = regroup(X, V, lo, hi, mean, labels, k, min_size, max_size,
                            lp_work=(1.0 - SPLIT_PART) * max_work, clock=clock, end=end)
    return labels.tolist(), violation
