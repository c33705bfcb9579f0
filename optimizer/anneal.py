"""Annealing under balance bands: many disjoint cluster pairs per numpy round.

Why: with bands (population ±10 %) the local search of
:mod:`optimizer.local_search` stops in the first plan no single move or swap
improves, and most moves that would open a better plan are barred by a band
until another unit moves first. Annealing accepts some worsening steps to get
past those walls. A unit-by-unit annealer in Python is ~10⁴ times too slow,
so each round here pairs up clusters at random (every cluster with one of its
:data:`NEIGHBOURS` nearest — :data:`SMALL_CLUSTER_NEIGHBOURS` for small
clusters —, no cluster in two pairs), evaluates *every* move
and swap of every pair at once with the closed-form change of the
within-cluster sum of squares, and draws one step per pair from the
Boltzmann distribution over its options, "stay" included (heat-bath: no
proposals wasted on rejections). Because the pairs are disjoint the steps
never interact, so the changes add up exactly.

Measured (benchmark F, population ±10 %, seeds 0–2, from the first local
search's plan): 700 units 0.3644 / 0.3491 / 0.3466 → 0.3576 / 0.3409 / 0.3415
in 18 s, where the whole-table restarts from other seeds and the regional
restarts reached 0.3602 / 0.3435 / 0.3452 in the same time; 3 300 units seed 0
0.3427 → 0.3389 in 25 s (those phases: 0.3404). In the product it replaces
the whole-table restarts and follows a shorter turn of the regional restarts
(:data:`optimizer.lns.BAND_REGION_SPEND`), when its share pays for
:data:`MIN_ROUNDS` rounds.

Every step keeps the size bounds and the bands (tightened by
:data:`optimizer.repair.BAND_MARGIN`, as in the local search), so the plan
stays feasible throughout and the best one seen is returned. Locked units
(together / apart / fixed) never move.

Determinism: the random draws come from ``numpy.random.default_rng(seed)``
and the temperature follows the share of ``max_work`` spent (a count), so the
result depends on the input alone; the wall-clock ``deadline`` only stops
(recorded on ``clock``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.budget import (
    ANNEAL_PAIR_WORK,
    ANNEAL_ROUND_WORK,
    ANNEAL_WORK_PER_S,
    Clock,
    must_stop,
)
from optimizer.interrupts import carrying
from optimizer.local_search import (
    DENSE_CLUSTERS_MAX,
    blocks_apart,
    cluster_blocks,
    nearest_clusters,
    sse,
)
from optimizer.smallest import smallest_columns

#: Each cluster is paired with one of this many nearest clusters (by centre).
#: 700 units, 18 s: 4 / 8 / 12 neighbours gave medians 0.3419 / 0.3415 / 0.3414.
NEIGHBOURS = 8
#: ... or of this many when clusters average at most :data:`FEW_UNITS` units.
#: Why: a cluster of ~6 has only near-identical clusters among its 8 nearest,
#: while the band needs its big and small units traded with clusters unlike
#: it. `cumkhoi sample` tables, `cumkhoi init`-like scenarios (5–7 units, ±55 %),
#: 30 s, objective with 8 → 32 → 64 → 128 neighbours: 3 300 units, init's own
#: scenario 1 317.2 → 1 301.1 → 1 318.0 → 1 330.6; function and population
#: 1 091.2 → 1 001.1 → 1 014.1 → 1 010.5; region not a criterion 1 230.1 →
#: 1 193.6 → 1 187.5 → 1 218.2; population alone 1 153.9 → 1 054.4 → 970.0 →
#: 892.4; 1 500 units 574.0 → 571.9 (128: 570.7); 700 units (4–7) 195.1 →
#: 192.0; 10 000 units (4–7) 628.0 → 612.6. A solver seed moves a plan by
#: ~1–2 %, so over seeds 0–2 (means): 1 308.6 → 1 298.8, and two fresh tables
#: 460.6 → 453.9 and 887.6 → 859.1. 32 nearest plus 8 random clusters: no
#: better on those means (population alone 893.3). The benchmark's clusters
#: (14+ units) keep 8.
SMALL_CLUSTER_NEIGHBOURS = 32
#: Mean cluster size (units) up to which :data:`SMALL_CLUSTER_NEIGHBOURS` applies.
FEW_UNITS = 10
#: Cluster centres (for the neighbour lists) are recomputed every this many rounds.
REFRESH_ROUNDS = 50
#: Start and end temperature, as a share of the mean squared distance of a
#: unit to the table's mean. Measured at 700 units (medians of seeds 0–2):
#: start 0.03 / 0.05 / 0.1 / 0.2 → 0.3461 / 0.3427 / 0.3415 / 0.3416; end 0.001
#: → 0.3405 there, but in the whole solve 0.3416 against 0.3407 (seeds 0–2) and
#: 0.3532 against 0.3550 (seeds 3–5; per seed −1.1 % to +0.1 %): noise, not
#: adopted; 0.0005 was worse on seed 0 (0.3580 against 0.3569 at start 0.05).
START_TEMPERATURE = 0.1
END_TEMPERATURE = 0.002
#: Without a max_size (or a loose one) a cluster may grow at most this share
#: above the largest cluster of the start: the member table, hence every
#: round's arrays, is as wide as the largest cluster allowed.
GROWTH = 0.25
#: At most this many step options (pairs × member slots²) are evaluated in one
#: numpy call (~40 MB per array); the round's pairs are taken in chunks below it.
#: Clusters wider than its square root (over ~2 200 units) are left to the
#: local search: one pair's swaps alone would exceed it.
MAX_OPTIONS = 5_000_000
#: Cluster pairs drawn per round, per cluster (measured 0.29 at 700 and 3 300 units).
PAIRS_PER_CLUSTER = 0.29
#: Annealing pays only with enough rounds per cluster: 700 units (K = 50) gained
#: 1.7–2.5 % in ~87 000 rounds, 3 300 (K = 100) 0.8–1.3 % in 16 000–19 000, and
#: 50 000 (K = 500) 0.005 % in 2 000 rounds (69 s that the regional restarts,
#: which kept 454 of 866 tries there, use better). Below this many affordable
#: rounds the caller gives the time to them instead.
MIN_ROUNDS = 10_000
#: ... for clusters of this many units or more; smaller clusters need
#: proportionally fewer (:func:`min_rounds`): a pair of clusters of 6 offers ~50
#: steps, of 33 ~1 150. Measured, 3 300 units in 550 clusters of 5–7, 30 s, once
#: the rounds were charged their per-pair cost: 4 200 affordable rounds, objective
#: 1 317.2 with the annealing against 1 401.5 with the regional restarts alone.
FULL_ROUNDS_SIZE = 33


@dataclass(frozen=True, slots=True)
class AnnealStats:
    """What one annealing run did (rounds, steps taken) and its sum of squares before/after."""

    rounds: int
    steps: int
    sse_before: float
    sse_after: float
    work: int


def anneal(
    X: np.ndarray,
    V: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    labels: np.ndarray,
    k: int,
    min_size: int,
    max_size: int,
    *,
    free: np.ndarray | None = None,
    seed: int = 0,
    max_work: int,
    deadline: float = math.inf,
    clock: Clock | None = None,
    blocks: np.ndarray | None = None,
) -> tuple[np.ndarray, AnnealStats]:
    """Anneal ``labels`` (meeting sizes and the bands ``lo``..``hi`` on ``V``); the best plan seen.

    ``X``: the similarity features (n × d), whose within-cluster sum of
    squares is minimised; ``V``: the balanced values (n × c). A cluster grows
    at most :data:`GROWTH` above the start's largest, and clusters too wide for
    :data:`MAX_OPTIONS` are returned unchanged. ``max_work``
    counts unit pairs evaluated plus :data:`optimizer.budget.ANNEAL_ROUND_WORK`
    per round and :data:`optimizer.budget.ANNEAL_PAIR_WORK` per cluster pair
    drawn; the temperature falls geometrically with the share spent.
    ``blocks`` (one code per unit, one_region / one_function): every cluster
    lies in one block and only clusters of the same block are paired.
    """
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(X, dtype=np.float64)
    V = np.ascontiguousarray(V, dtype=np.float64)
    n = len(labels)
    lab = np.asarray(labels, dtype=np.int64).copy()
    movable = np.ones(n, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    sq = np.einsum("ij,ij->i", X, X)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, lab, X)
    totals = np.zeros((k, V.shape[1]))
    np.add.at(totals, lab, V)
    size = np.bincount(lab, minlength=k).astype(np.int64)
    largest = int(size.max())
    max_size = min(max_size, largest + max(2, math.ceil(GROWTH * largest)))
    width = max(max_size, largest) + 1
    before = sse(X, lab, k)
    if k < 2 or width * width > MAX_OPTIONS:  # no pair to draw, or too wide to hold
        return lab, AnnealStats(0, 0, before, before, 0)
    chunk = MAX_OPTIONS // (width * width)
    members = _member_table(lab, size, k, width)
    spread = max(float(sq.sum() - (X.sum(axis=0) ** 2).sum() / max(n, 1)), 1e-12) / max(n, 1)
    hot, cold = START_TEMPERATURE * spread, END_TEMPERATURE * spread
    current = best = before
    best_lab = lab.copy()
    spent = rounds = steps = 0
    near = np.zeros((k, 0), dtype=np.int64)
    neighbours = SMALL_CLUSTER_NEIGHBOURS if n <= FEW_UNITS * k else NEIGHBOURS
    cluster_block = None if blocks is None else cluster_blocks(lab, blocks, k)
    # Ctrl-C hands over the best plan seen (a copy taken between rounds, so whole)
    with carrying(lambda: best_lab):
        while spent < max_work:
            if must_stop(deadline, clock):
                break
            if rounds % REFRESH_ROUNDS == 0:
                near = _nearest_clusters(blocks_apart(sums / size[:, None], cluster_block, X),
                                         min(neighbours, k - 1))
            temperature = hot * (cold / hot) ** (spent / max_work)
            rounds += 1
            A, B = _random_pairs(near, rng, cluster_block)
            spent += (ANNEAL_ROUND_WORK + ANNEAL_PAIR_WORK * len(A)
                      + int((size[A] * size[B] + size[A] + size[B]).sum()))
            if len(A) == 0:
                continue
            for first in range(0, len(A), chunk):
                a, b = A[first:first + chunk], B[first:first + chunk]
                options = _step_options(X, V, sq, lo, hi, sums, totals, size, members, movable,
                                        a, b, min_size, max_size)
                # one Boltzmann draw per pair (Gumbel-max): stay, or a step, by its change
                # (in place: −log(−log u) over fresh arrays took a fifth of a round)
                gumbel = rng.random(options.shape)
                np.log(gumbel, out=gumbel)
                np.negative(gumbel, out=gumbel)
                np.log(gumbel, out=gumbel)  # now minus the Gumbel noise
                key = np.divide(options, temperature)
                key += gumbel
                choice = np.argmin(key, axis=1)
                current += float(options[np.arange(len(a)), choice].sum())
                steps += _apply(X, V, lab, sums, totals, size, members, a, b, choice, width)
            if current < best - 1e-9 * spread:
                best, best_lab = current, lab.copy()
    if clock is not None:
        clock.charge(spent, ANNEAL_WORK_PER_S)
    stats = AnnealStats(rounds, steps, before, sse(X, best_lab, k), spent)
    return best_lab, stats


def min_rounds(n: int, k: int) -> int:
    """Affordable rounds below which the annealing does not pay (clusters averaging ``n / k``)."""
    return math.ceil(MIN_ROUNDS * min(1.0, n / max(k, 1) / FULL_ROUNDS_SIZE))


def affordable_rounds(n: int, k: int, max_work: int) -> int:
    """About how many rounds ``max_work`` pays for on ``n`` units in ``k`` clusters of even size."""
    per = n / max(k, 1)
    round_work = ANNEAL_ROUND_WORK + PAIRS_PER_CLUSTER * k * (ANNEAL_PAIR_WORK + per * per + 2 * per)
    return int(max_work / round_work)


def _member_table(lab: np.ndarray, size: np.ndarray, k: int, width: int) -> np.ndarray:
    """``k × width`` unit indices per cluster, padded with −1 after the last member."""
    order = np.argsort(lab, kind="stable")
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    table = np.full((k, width), -1, dtype=np.int64)
    table[lab[order], np.arange(len(lab)) - first[lab[order]]] = order
    return table


def _nearest_clusters(centres: np.ndarray, count: int) -> np.ndarray:
    """Each cluster's ``count`` nearest other clusters by centre (ties by index).

    Past :data:`optimizer.local_search.DENSE_CLUSTERS_MAX` clusters from a tree
    (the k × k matrix of 25 000 clusters is 5 GB), as the local search does.
    """
    if len(centres) > DENSE_CLUSTERS_MAX:
        return nearest_clusters(centres, count)
    gram = centres @ centres.T
    norms = np.diag(gram)
    dist = norms[:, None] + norms[None, :] - 2 * gram
    np.fill_diagonal(dist, np.inf)
    return smallest_columns(dist, count)


def _random_pairs(near: np.ndarray, rng: np.random.Generator,
                  cluster_block: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint pairs (a, b): a random half proposes one near cluster of the other half each
    (of its own block, when clusters have blocks).

    When two proposers pick the same cluster the first in a random order keeps it,
    so no cluster is in two pairs and every pair's steps are independent.
    """
    k = len(near)
    side = rng.random(k) < 0.5
    proposers = np.flatnonzero(side)
    options = near[proposers]
    allowed = ~side[options]
    if cluster_block is not None:
        allowed &= cluster_block[options] == cluster_block[proposers][:, None]
    pick = np.argmax(rng.random(options.shape) * allowed, axis=1)
    has = allowed[np.arange(len(proposers)), pick]
    A, B = proposers[has], options[has, pick[has]]
    order = rng.permutation(len(A))
    A, B = A[order], B[order]
    _, first = np.unique(B, return_index=True)
    return A[first], B[first]


def _step_options(X, V, sq, lo, hi, sums, totals, size, members, movable, A, B,
                  min_size, max_size) -> np.ndarray:
    """The change of the sum of squares of every step of each pair (``inf``: barred).

    Row p is pair (A[p], B[p]); with ``w`` the member table's width, column
    ``i·w + j`` swaps slot i of a with slot j of b, ``w² + i`` moves a's slot
    i to b, ``w² + w + j`` moves b's slot j to a, and the last, ``w² + 2w``,
    is "stay" (change 0).

    The swaps (all but 2w + 1 of a row's options) dominate the cost, so their
    change is written as ``2c·⟨x_i, x_j⟩ + r_i + s_j`` (one batched matrix
    product and two broadcast sums, into the output in place) and their bands
    are tested one balanced column at a time on P × w × w arrays.
    """
    P = len(A)
    w = members.shape[1]
    Ma, Mb = members[A], members[B]
    Ia, Ib = np.maximum(Ma, 0), np.maximum(Mb, 0)
    va, vb = (Ma >= 0) & movable[Ia], (Mb >= 0) & movable[Ib]
    xa, xb = X[Ia], X[Ib]
    Sa, Sb = sums[A], sums[B]
    a_Sa, a_Sb = np.einsum("psd,pd->ps", xa, Sa), np.einsum("psd,pd->ps", xa, Sb)
    b_Sa, b_Sb = np.einsum("psd,pd->ps", xb, Sa), np.einsum("psd,pd->ps", xb, Sb)
    sqa, sqb = sq[Ia], sq[Ib]
    ssa, ssb = np.einsum("pd,pd->p", Sa, Sa), np.einsum("pd,pd->p", Sb, Sb)
    na, nb = size[A].astype(np.float64), size[B].astype(np.float64)
    Va, Vb = V[Ia], V[Ib]
    Ta, Tb = totals[A], totals[B]

    def in_band(t: np.ndarray) -> np.ndarray:
        return np.all((t >= lo) & (t <= hi), axis=-1)

    out = np.empty((P, w * w + 2 * w + 1))
    # swap i (in a) with j (in b): sizes unchanged, sums shift by x_j − x_i; the
    # change −(g_a/n_a + g_b/n_b), g_a = 2(⟨x_j,S_a⟩ − ⟨x_i,S_a⟩) + |x_i − x_j|² and
    # g_b = 2(⟨x_i,S_b⟩ − ⟨x_j,S_b⟩) + |x_i − x_j|², regrouped by i and by j
    c = (1 / na + 1 / nb)[:, None]
    r = 2 * a_Sa / na[:, None] - 2 * a_Sb / nb[:, None] - c * sqa
    s = 2 * b_Sb / nb[:, None] - 2 * b_Sa / na[:, None] - c * sqb
    swap = out[:, :w * w].reshape(P, w, w)
    np.matmul(xa, xb.transpose(0, 2, 1), out=swap)
    swap *= 2 * c[:, :, None]
    swap += r[:, :, None]
    swap += s[:, None, :]
    barred = ~(va[:, :, None] & vb[:, None, :])
    for col in range(V.shape[1]):
        dv = Vb[:, None, :, col] - Va[:, :, None, col]
        t = Ta[:, None, None, col] + dv
        barred |= (t < lo[col]) | (t > hi[col])
        np.subtract(Tb[:, None, None, col], dv, out=t)
        barred |= (t < lo[col]) | (t > hi[col])
    np.copyto(swap, np.inf, where=barred)
    here = ssa / na + ssb / nb
    with np.errstate(divide="ignore", invalid="ignore"):
        # move a's unit to b, then b's unit to a
        ab = here[:, None] - (ssa[:, None] - 2 * a_Sa + sqa) / (na[:, None] - 1) \
            - (ssb[:, None] + 2 * a_Sb + sqa) / (nb[:, None] + 1)
        ok = va & ((na > min_size) & (nb < max_size))[:, None]
        ok &= in_band(Ta[:, None, :] - Va) & in_band(Tb[:, None, :] + Va)
        out[:, w * w:w * w + w] = np.where(ok, ab, np.inf)
        ba = here[:, None] - (ssb[:, None] - 2 * b_Sb + sqb) / (nb[:, None] - 1) \
            - (ssa[:, None] + 2 * b_Sa + sqb) / (na[:, None] + 1)
        ok = vb & ((nb > min_size) & (na < max_size))[:, None]
        ok &= in_band(Tb[:, None, :] - Vb) & in_band(Ta[:, None, :] + Vb)
        out[:, w * w + w:w * w + 2 * w] = np.where(ok, ba, np.inf)
    out[:, -1] = 0.0
    return out


def _apply(X, V, lab, sums, totals, size, members, A, B, choice, width) -> int:
    """Carry out the drawn steps (pairs are disjoint, so all at once); returns how many."""
    square = width * width
    swap = choice < square
    if swap.any():
        a, b = A[swap], B[swap]
        i_slot, j_slot = np.divmod(choice[swap], width)
        i, j = members[a, i_slot], members[b, j_slot]
        members[a, i_slot], members[b, j_slot] = j, i
        lab[i], lab[j] = b, a
        dx, dv = X[j] - X[i], V[j] - V[i]
        sums[a] += dx
        sums[b] -= dx
        totals[a] += dv
        totals[b] -= dv
    taken = int(swap.sum())
    for offset, src_of, dst_of in ((square, A, B), (square + width, B, A)):
        move = (choice >= offset) & (choice < offset + width)
        if not move.any():
            continue
        slot = choice[move] - offset
        src, dst = src_of[move], dst_of[move]
        unit = members[src, slot]
        last = size[src] - 1
        members[src, slot] = members[src, last]
        members[src, last] = -1
        members[dst, size[dst]] = unit
        size[src] -= 1
        size[dst] += 1
        lab[unit] = dst
        sums[src] -= X[unit]
        sums[dst] += X[unit]
        totals[src] -= V[unit]
        totals[dst] += V[unit]
        taken += int(move.sum())
    return taken
