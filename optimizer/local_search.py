"""Vectorised local search on the centroid sum of squares that never breaks a rule.

Why: on large tables the CP-SAT sub-solves of :mod:`optimizer.lns` touch a
few clusters per second, while a balanced plan from :mod:`optimizer.repair`
still has thousands of cheap improvements left — a unit nearer another
cluster's centre, a big and a small unit that fit better the other way round.
Each such step has a closed-form change of the within-cluster sum of squares
(the dispersion the benchmark measures), so numpy evaluates every single
move and every pairwise swap between two neighbouring clusters at once.

A step is taken only if it keeps every size bound and every balance band
(tightened by :data:`optimizer.repair.BAND_MARGIN`, as conservative as the
integer model), so a feasible plan stays feasible. Units under a pairwise rule
(together blocks, apart groups, fixed labels) never move; tables with
contiguity are left to the CP-SAT search — :func:`local_search_allowed` —
and one_region / one_function only search from a start whose clusters each
lie in one block, never pairing clusters of two (``blocks``). A current grouping enters as a move budget
(``max_moves``: ``home`` / ``max_moved``) or a price per move
(``stability_weight``: ``move_penalty``, :mod:`optimizer.move_cost_search`).

Determinism: the search is a fixed sequence of passes over cluster pairs in
index order with ties broken by index, bounded by ``max_work`` (unit pairs
evaluated, see :mod:`optimizer.budget`); the wall-clock ``deadline`` is only a
safety stop (recorded on ``clock`` when it fires), so the result depends on
the input alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.budget import LS_WORK_PER_S, STEP_OVERHEAD, Clock, must_stop
from optimizer.data import ModelData
from optimizer.interrupts import carrying
from optimizer.problem import Problem
from optimizer.repair import BAND_MARGIN
from optimizer.smallest import smallest_columns

#: Each cluster exchanges units with this many nearest clusters (by centre).
NEIGHBOURS = 8
#: 3-cycles (a→b→c→a) are tried among this many nearest clusters of each cluster.
CYCLE_NEIGHBOURS = 4
#: A 3-cycle is evaluated only when the three clusters' free units give at most this many triples.
MAX_CYCLE_TRIPLES = 2_000_000
#: Up to this many clusters their neighbours come from the whole centre matrix.
DENSE_CLUSTERS_MAX = 4_000
#: Swaps of two clusters are evaluated in blocks of at most this many (i, j)
#: pairs (rows of a at a time; one block up to clusters of 2 000): two clusters
#: of 10 000 units held ~8 GB of swap arrays at once.
SWAP_BLOCK = 4_000_000
#: Improvements smaller than this (relative to the total sum of squares) end the search.
MIN_GAIN = 1e-9
#: At most this many passes over all neighbouring cluster pairs.
MAX_PASSES = 60


@dataclass(frozen=True, slots=True)
class SearchStats:
    """What the local search did: passes, moves, swaps and the sum of squares before/after."""

    passes: int
    moves: int
    swaps: int
    cycles: int
    sse_before: float
    sse_after: float
    work: int = 0


def local_search_allowed(
    problem: Problem, data: ModelData, *, with_move_budget: bool = False,
    with_move_cost: bool = False, within_blocks: bool = False,
) -> bool:
    """Whether every remaining rule is one the local search keeps by construction.

    ``with_move_budget``: ``max_moves`` counts as kept (``improve``'s ``home`` /
    ``max_moved``), for a search that starts from the current grouping.
    ``with_move_cost``: so does ``stability_weight``, for a caller that prices
    the moves afterwards (:mod:`optimizer.move_cost_search`); the weight is a
    cost, not a rule, so any plan meeting the rest is a plan of the scenario.
    ``within_blocks``: so do ``one_region`` / ``one_function``, for a search
    from a start whose clusters each lie in one block (``improve``'s ``blocks``).
    """
    rules = problem.rules
    grouped = (rules.one_region or rules.one_function) and not within_blocks
    graph_or_group = rules.contiguous or grouped
    budgeted = rules.max_moves is not None and not with_move_budget
    priced = bool(rules.stability_weight) and not with_move_cost
    return not (graph_or_group or budgeted or priced)


def _locked(data: ModelData) -> np.ndarray:
    """Units that never move: together blocks, apart groups and fixed labels."""
    lock = np.asarray(data.block_of, dtype=np.int64) >= 0
    for group in data.apart:
        lock[list(group)] = True
    lock |= np.array([f is not None for f in data.fixed], dtype=bool)
    return lock


def cluster_blocks(labels: np.ndarray, blocks: np.ndarray, k: int) -> np.ndarray:
    """Each cluster's block (``blocks``: one code per unit; every cluster lies in one block)."""
    cluster_block = np.zeros(k, dtype=np.int64)
    cluster_block[np.asarray(labels, dtype=np.int64)] = np.asarray(blocks, dtype=np.int64)
    return cluster_block


def within_blocks(labels, blocks: np.ndarray) -> bool:
    """Whether every cluster of ``labels`` holds units of one block only."""
    lab = np.asarray(labels, dtype=np.int64)
    codes = np.asarray(blocks, dtype=np.int64)
    first = np.full(int(lab.max()) + 1, -1, dtype=np.int64)
    first[lab] = codes
    return bool((first[lab] == codes).all())


def blocks_apart(centres: np.ndarray, cluster_block: np.ndarray | None,
                 X: np.ndarray) -> np.ndarray:
    """``centres`` with clusters of different blocks set further apart than any two units.

    Why: under one_region / one_function a search pairs only clusters of one
    block, so each cluster's nearest clusters must be sought among its own
    block's first (one-hot block columns scaled past the table's diameter).
    """
    if cluster_block is None:
        return centres
    apart = 2.0 * float(np.abs(X).max()) * np.sqrt(X.shape[1]) + 1.0
    return np.hstack([centres, apart * np.eye(int(cluster_block.max()) + 1)[cluster_block]])


def nearest_clusters(centres: np.ndarray, count: int) -> np.ndarray:
    """Each cluster's ``count`` nearest other clusters by centre (k × count, nearest first).

    Up to :data:`DENSE_CLUSTERS_MAX` clusters from the whole k × k matrix; beyond,
    from a tree (25 000 clusters: the matrix and its sort took 50 s of a 60 s limit
    and 5 GB, before the search's clock could stop anything).
    """
    k = len(centres)
    if k <= DENSE_CLUSTERS_MAX:
        cc = np.einsum("ij,ij->i", centres, centres)
        d = cc[:, None] + cc[None, :] - 2 * centres @ centres.T
        return smallest_columns(d, count + 1)[:, 1:]
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=min(count + 1, k)).fit(centres).kneighbors(centres)
    # drop each cluster itself (not always first when centres coincide)
    own = idx == np.arange(k)[:, None]
    order = np.argsort(own, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)[:, :count]


def sse(X: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Within-cluster sum of squared distances to the cluster means."""
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    size = np.bincount(labels, minlength=k)
    sq = float(np.einsum("ij,ij->", X, X))
    return sq - float((np.einsum("ij,ij->i", sums, sums) / np.maximum(size, 1)).sum())


def improve(
    problem: Problem,
    data: ModelData,
    k: int,
    labels: list[int],
    *,
    deadline: float,
    max_work: int | None = None,
    clock: Clock | None = None,
    home: np.ndarray | None = None,
    max_moved: int | None = None,
    move_penalty: float = 0.0,
    blocks: np.ndarray | None = None,
) -> tuple[list[int], SearchStats]:
    """Best-improvement moves and swaps between neighbouring clusters until none helps.

    ``labels`` must already meet the size bounds and balance bands (a plan from
    :func:`optimizer.repair.repair_balance` with violation 0); the result does
    too and its sum of squares is never higher. ``max_work`` (unit pairs
    evaluated) ends the search deterministically; ``deadline`` only as a
    safety stop, marked on ``clock``.

    ``home`` / ``max_moved``: a move budget (``max_moves``). ``home[i]`` is unit
    *i*'s cluster in the current grouping (-1: unknown, never counted), and a
    step is taken only while at most ``max_moved`` units sit outside their home
    cluster. The plan then moves at most ``max_moved`` units by name too: names
    are matched to the current groups for the greatest overlap, which keeps at
    least as many units in place as this cluster-by-cluster count does. Without
    it the 10 000-unit plan allowed 1 500 moves kept the repaired current grouping.

    ``blocks`` (one code per unit, for one_region / one_function): every
    cluster of ``labels`` lies in one block, and steps only pair clusters of
    the same block, so none ever mixes two (each cluster's neighbours are
    sought in its own block first).

    ``move_penalty`` (with ``home``): added to a step's change for each unit
    it takes out of its home cluster, subtracted for each it brings back — the
    stability weight, in the same sum-of-squares units as the change.

    (Tried and dropped: soft bands with a rising penalty, from the seed —
    0.389 at 700 units against 0.369 from the LP start.)
    """
    rules = problem.rules
    X = np.asarray(problem.features.values, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64).copy()
    n = len(lab)
    if data.balance:
        V = np.column_stack([np.nan_to_num(c.values) for c in data.balance])
        bands = [c.band(k) for c in data.balance]
        mean = np.array([abs(c.values.sum()) / k or 1.0 for c in data.balance])
        lo = np.array([b[0] for b in bands]) + BAND_MARGIN * mean
        hi = np.array([b[1] for b in bands]) - BAND_MARGIN * mean
    else:
        V = np.zeros((n, 1))
        lo, hi = np.array([-np.inf]), np.array([np.inf])

    min_size = rules.min_size or 1
    max_size = rules.max_size or n
    free = ~_locked(data)
    sq = np.einsum("ij,ij->i", X, X)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, lab, X)
    tot = np.zeros((k, V.shape[1]))
    np.add.at(tot, lab, V)
    size = np.bincount(lab, minlength=k).astype(np.int64)
    before = sse(X, lab, k)
    scale = max(float(sq.sum() - (X.sum(axis=0) ** 2).sum() / max(n, 1)), 1e-12)
    tol = MIN_GAIN * scale
    members = [list(np.flatnonzero(lab == c)) for c in range(k)]
    moves = swaps = passes = spent = 0
    move_budget = math.inf if home is None or max_moved is None else max_moved
    home = np.full(n, -1, dtype=np.int64) if home is None else np.asarray(home, dtype=np.int64)
    counted = home >= 0
    moved = int((counted & (lab != home)).sum())

    def moved_change(U: np.ndarray, src: int, dst: int) -> np.ndarray:
        """Change of the moved count when each unit of ``U`` goes from ``src`` to ``dst``."""
        h, c = home[U], counted[U]
        return (c & (h != dst)).astype(np.int64) - (c & (h != src)).astype(np.int64)
    allowance = math.inf if max_work is None else max_work

    def exhausted() -> bool:
        """Work allowance used up (decides), or the safety clock passed or the caller
        asked to stop (only stop)."""
        return spent >= allowance or must_stop(deadline, clock)

    def step(a: int, b: int) -> bool:
        """Apply the best improving move a→b, b→a or swap between a and b."""
        nonlocal moves, swaps, spent
        A = np.asarray([i for i in members[a] if free[i]], dtype=np.int64)
        B = np.asarray([j for j in members[b] if free[j]], dtype=np.int64)
        spent += len(A) * len(B) + len(A) + len(B) + STEP_OVERHEAD
        na, nb = int(size[a]), int(size[b])
        Sa, Sb = sums[a], sums[b]
        best = (-tol, "", -1, -1)
        xa_Sa, xa_Sb = X[A] @ Sa, X[A] @ Sb
        xb_Sa, xb_Sb = X[B] @ Sa, X[B] @ Sb
        # move i: a -> b; SSE change = -(|Sa|²-|Sa-x|²)/.. written with sums
        for src, dst, U, u_src, u_dst, ns, nd in (
            (a, b, A, xa_Sa, xa_Sb, na, nb),
            (b, a, B, xb_Sb, xb_Sa, nb, na),
        ):
            if len(U) == 0 or ns <= min_size or nd >= max_size:
                continue
            S_s, S_d = sums[src], sums[dst]
            ss, sd = float(S_s @ S_s), float(S_d @ S_d)
            new_s = (ss - 2 * u_src + sq[U]) / (ns - 1)
            new_d = (sd + 2 * u_dst + sq[U]) / (nd + 1)
            delta = ss / ns + sd / nd - new_s - new_d
            ok = np.all(tot[src] - V[U] >= lo, axis=1) & np.all(tot[src] - V[U] <= hi, axis=1)
            ok &= np.all(tot[dst] + V[U] <= hi, axis=1) & np.all(tot[dst] + V[U] >= lo, axis=1)
            if move_budget < math.inf or move_penalty:
                change = moved_change(U, src, dst)
                ok &= moved + change <= move_budget
                delta = delta + move_penalty * change
            delta = np.where(ok, delta, np.inf)
            idx = int(np.argmin(delta))
            if delta[idx] < best[0]:
                best = (float(delta[idx]), "move", int(U[idx]), dst)
        rows = max(SWAP_BLOCK // max(len(B), 1), 1)
        for r in range(0, len(A) if len(B) else 0, rows):
            # swap i in a with j in b: sizes unchanged, sums shift by x_j - x_i
            Ar = A[r:r + rows]
            cross = X[Ar] @ X[B].T
            d2 = sq[Ar][:, None] + sq[B][None, :] - 2 * cross
            ga = 2 * (xb_Sa[None, :] - xa_Sa[r:r + rows, None]) + d2
            gb = 2 * (xa_Sb[r:r + rows, None] - xb_Sb[None, :]) + d2
            delta = -ga / na - gb / nb
            dv = V[B][None, :, :] - V[Ar][:, None, :]
            ta, tb = tot[a] + dv, tot[b] - dv
            ok = np.all((ta >= lo) & (ta <= hi) & (tb >= lo) & (tb <= hi), axis=2)
            if move_budget < math.inf or move_penalty:
                change = moved_change(Ar, a, b)[:, None] + moved_change(B, b, a)[None, :]
                ok &= moved + change <= move_budget
                delta = delta + move_penalty * change
            delta = np.where(ok, delta, np.inf)
            flat = int(np.argmin(delta))
            if delta.flat[flat] < best[0]:
                i, j = divmod(flat, len(B))
                best = (float(delta.flat[flat]), "swap", int(Ar[i]), int(B[j]))
        if not best[1]:
            return False
        if best[1] == "move":
            i, dst = best[2], best[3]
            src = int(lab[i])
            _shift(i, src, dst)
            size[src] -= 1
            size[dst] += 1
            moves += 1
        else:
            i, j = best[2], best[3]
            _shift(i, a, b)
            _shift(j, b, a)
            swaps += 1
        return True

    def _shift(i: int, src: int, dst: int) -> None:
        nonlocal moved
        if counted[i]:
            moved += int(home[i] != dst) - int(home[i] != src)
        lab[i] = dst
        sums[src] -= X[i]
        sums[dst] += X[i]
        tot[src] -= V[i]
        tot[dst] += V[i]
        members[src].remove(i)
        members[dst].append(i)

    def cycle(a: int, b: int, c: int) -> bool:
        """Apply the best improving 3-cycle i: a→b, j: b→c, l: c→a (sizes unchanged)."""
        nonlocal cycles, spent
        A, B, C = (np.asarray([u for u in members[x] if free[u]], dtype=np.int64) for x in (a, b, c))
        if not (len(A) and len(B) and len(C)) or len(A) * len(B) * len(C) > MAX_CYCLE_TRIPLES:
            return False
        spent += len(A) * len(B) * len(C) + STEP_OVERHEAD

        def term(S: np.ndarray, out_: np.ndarray, in_: np.ndarray) -> np.ndarray:
            # |S - x_out + x_in|² - |S|², rows: out_, columns: in_
            d2 = sq[out_][:, None] + sq[in_][None, :] - 2 * X[out_] @ X[in_].T
            return 2 * ((X[in_] @ S)[None, :] - (X[out_] @ S)[:, None]) + d2

        ta = term(sums[a], A, C)  # a loses i, gains l: (i, l)
        tb = term(sums[b], B, A)  # b loses j, gains i: (j, i)
        tc = term(sums[c], C, B)  # c loses l, gains j: (l, j)
        delta = -(ta[:, None, :] / size[a] + tb.T[:, :, None] / size[b] + tc.T[None, :, :] / size[c])
        ok = np.ones(delta.shape, dtype=bool)
        for col in range(V.shape[1]):
            va, vb, vc = V[A, col], V[B, col], V[C, col]
            na_ = tot[a, col] - va[:, None, None] + vc[None, None, :]
            nb_ = tot[b, col] - vb[None, :, None] + va[:, None, None]
            nc_ = tot[c, col] - vc[None, None, :] + vb[None, :, None]
            for t in (na_, nb_, nc_):
                ok &= (t >= lo[col]) & (t <= hi[col])
        if move_budget < math.inf or move_penalty:
            change = (moved_change(A, a, b)[:, None, None] + moved_change(B, b, c)[None, :, None]
                      + moved_change(C, c, a)[None, None, :])
            ok &= moved + change <= move_budget
            delta = delta + move_penalty * change
        delta = np.where(ok, delta, np.inf)
        flat = int(np.argmin(delta))
        if not delta.flat[flat] < -tol:
            return False
        i, j, l = np.unravel_index(flat, delta.shape)
        _shift(int(A[i]), a, b)
        _shift(int(B[j]), b, c)
        _shift(int(C[l]), c, a)
        cycles += 1
        return True

    cycles = 0
    # every cluster lies in one block (the caller's start); steps between two
    # clusters of the same block keep it so
    cluster_block = None if blocks is None else cluster_blocks(lab, blocks, k)
    use_cycles = bool(data.balance)  # without bands, moves and swaps reach what cycles would
    # Ctrl-C hands over the plan as it stands (a step cut half-way may break a rule;
    # the caller verifies it)
    with carrying(lambda: lab):
        while passes < MAX_PASSES and not exhausted():
            passes += 1
            changed = False
            centres = sums / np.maximum(size, 1)[:, None]
            near = nearest_clusters(blocks_apart(centres, cluster_block, X), NEIGHBOURS)
            pairs = sorted({(min(a, int(b)), max(a, int(b))) for a in range(k) for b in near[a]
                            if cluster_block is None or cluster_block[a] == cluster_block[b]})
            for a, b in pairs:
                if exhausted():
                    break
                for _ in range(len(members[a]) + len(members[b])):
                    if not step(a, b):
                        break
                    changed = True
            if not changed and use_cycles:
                for a in range(k):
                    same = [b for b in near[a, :CYCLE_NEIGHBOURS].tolist()
                            if cluster_block is None or cluster_block[b] == cluster_block[a]]
                    for b in same:
                        for c in same:
                            if b != c and not exhausted() and cycle(a, b, c):
                                changed = True
            if not changed:
                break
    after = sse(X, lab, k)
    if clock is not None:
        clock.charge(spent, LS_WORK_PER_S)
    return lab.tolist(), SearchStats(passes, moves, swaps, cycles, before, after, spent)



def place_locked(data: ModelData, labels: list[int], k: int) -> list[int]:
    """Put the units under pairwise rules where those rules want them.

    The starts (LP, greedy, repair) ignore together/apart/fixed; this moves
    each fixed label's units to one cluster of their own (the one most of them
    are in, distinct per label), each together block to its first member's
    cluster, and an apart member sharing a cluster with another to the
    smallest cluster holding none of its group. Sizes and bands may break;
    :func:`optimizer.repair.repair_balance` with only the free units movable
    fixes them, and ``check_plan`` has the last word.
    """
    lab = np.asarray(labels, dtype=np.int64).copy()
    target: dict[str, int] = {}
    for label in data.fixed_labels:
        units = [i for i, f in enumerate(data.fixed) if f == label]
        counts = np.bincount(lab[units], minlength=k)
        for c in np.argsort(-counts, kind="stable").tolist():
            if c not in target.values():
                target[label] = int(c)
                break
        for i in units:
            lab[i] = target.get(label, lab[i])
    for block in data.blocks:
        label = next((data.fixed[i] for i in block if data.fixed[i] is not None), None)
        lab[list(block)] = target[label] if label in target else lab[block[0]]
    for group in data.apart:
        seen: set[int] = set()
        for i in group:
            if int(lab[i]) in seen and data.fixed[i] is None and data.block_of[i] < 0:
                size = np.bincount(lab, minlength=k)
                others = [c for c in np.argsort(size, kind="stable").tolist() if c not in seen]
                if others:
                    lab[i] = others[0]
            seen.add(int(lab[i]))
    return lab.tolist()


def locked_units(data: ModelData) -> np.ndarray:
    """Mask of the units under together, apart or fixed (they never move in a search)."""
    return _locked(data)
