"""Large tables under ``one_region`` / ``one_function``: one sub-problem per block.

Why: with these rules no cluster may mix two regions (functions), so the
problem falls apart into independent blocks once each block's number of
clusters is chosen. The generic start (repair over the whole table) ignores
the blocks and leaves clusters that mix them; the restricted CP-SAT model
then had to find a plan from scratch and, on a 300-unit sample with 50
clusters, found none in 8 s. Here each block gets a cluster count that its
units and balanced totals can hold (:func:`block_counts`), and is solved on
its own by :func:`optimizer.decompose.solve_group` (k-means, LP assignment /
centre rounds with the bands as rows, repair) — the sub-problems are small,
so the dense LP is cheap, and a plan that meets the block rules by
construction goes to the model as its hint.

The count choice is also a cheap proof: when no choice of whole cluster
counts fits every block, no plan exists (the caller leaves that verdict to
the exact model and diagnosis, which explain it in planner words).
"""

from __future__ import annotations

import math
import time

import numpy as np

from optimizer.budget import LP_WORK_PER_S, REPAIR_WORK_PER_S, Clock
from optimizer.data import ModelData
from optimizer.decompose import LEAF_CLUSTERS, solve_group, split_groups
from optimizer.problem import Problem
from optimizer.repair import balance_arrays


def count_range(
    n_b: int, totals: np.ndarray, min_size: int, max_size: int, lo: np.ndarray, hi: np.ndarray,
) -> tuple[int, int]:
    """The cluster counts ``g`` a block of ``n_b`` units and balanced ``totals`` allows, as
    ``(lowest, highest)`` (empty when lowest > highest): ``g·min_size ≤ n_b ≤ g·max_size``
    and ``g·lo ≤ total ≤ g·hi`` for each balanced column (``lo`` / ``hi`` per cluster;
    ``-inf`` / ``inf`` or ≤ 0 when they bound nothing)."""
    a = max(1, math.ceil(n_b / max_size))
    b = min(n_b, n_b // max(min_size, 1))
    for t, l, h in zip(totals, lo, hi):
        if np.isfinite(h) and h > 0:
            a = max(a, math.ceil(t / h - 1e-9))
        if np.isfinite(l) and l > 0:
            b = min(b, math.floor(t / l + 1e-9))
    return a, b


def block_codes(blocks: list[np.ndarray], n: int) -> np.ndarray:
    """Each unit's block number (blocks partition ``0..n-1``)."""
    codes = np.zeros(n, dtype=np.int64)
    for code, units in enumerate(blocks):
        codes[units] = code
    return codes


def block_counts(
    sizes: list[int],
    totals: np.ndarray,
    k: int,
    min_size: int,
    max_size: int,
    lo: np.ndarray,
    hi: np.ndarray,
) -> list[int] | None:
    """Clusters per block, summing to ``k``, each block able to hold its share.

    A block of ``n_b`` units and balanced totals ``T_b`` can form ``g``
    clusters only if ``g·min_size ≤ n_b ≤ g·max_size`` and ``g·lo ≤ T_b ≤
    g·hi`` for every balanced column. Within those ranges the counts follow
    the blocks' sizes (each next cluster goes to the block with the most
    units per cluster; ties to the first block). None when the ranges cannot
    sum to ``k``.

    Parameters
    ----------
    sizes:
        Units per block.
    totals:
        ``(blocks, columns)`` balanced totals per block.
    lo, hi:
        Per-cluster band of each balanced column (``-inf``/``inf`` when none).
    """
    low, high = [], []
    for n_b, t_b in zip(sizes, totals):
        a, b = count_range(n_b, t_b, min_size, max_size, lo, hi)
        if a > b:
            return None
        low.append(a)
        high.append(b)
    if not sum(low) <= k <= sum(high):
        return None
    counts = list(low)
    for _ in range(k - sum(counts)):
        room = [(sizes[i] / counts[i], -i) if counts[i] < high[i] else (-1.0, -i)
                for i in range(len(sizes))]
        best = max(range(len(sizes)), key=lambda i: room[i])
        counts[best] += 1
    return counts


def grouped_start(
    problem: Problem,
    data: ModelData,
    k: int,
    blocks: list[np.ndarray],
    *,
    max_work: float,
    seconds: float,
    clock: Clock | None = None,
) -> tuple[list[int], float] | None:
    """Labels that never mix two blocks, each block solved on its own.

    ``max_work`` (LP work units) is shared by the blocks in proportion to
    their units; each block's repair gets the matching nominal seconds at
    ``REPAIR_WORK_PER_S``. ``seconds`` is only a safety stop (marked on
    ``clock``). Returns labels and the size/band violation left (0 when
    every cluster fits), or None when no cluster counts fit the blocks.
    """
    fit = _fitting_counts(problem, data, k, blocks)
    if fit is None:
        return None
    X, V, lo, hi, mean, min_size, max_size, counts = fit
    n = data.n
    end = time.monotonic() + seconds
    labels = np.full(n, -1, dtype=np.int64)
    violation, offset = 0.0, 0
    for units, count in block_parts(X, V, lo, hi, blocks, counts, min_size, max_size):
        share = max_work * len(units) / n
        lab, left = solve_group(
            X[units], V[units], lo, hi, mean, count, min_size, max_size,
            lp_work=share,
            repair_work=share / LP_WORK_PER_S * REPAIR_WORK_PER_S, clock=clock, end=end,
        )
        labels[units] = lab + offset
        offset += count
        violation += left
    if time.monotonic() >= end and clock is not None:
        clock.mark()
    return labels.tolist(), violation


def block_parts(
    X: np.ndarray, V: np.ndarray, lo: np.ndarray, hi: np.ndarray, blocks: list[np.ndarray],
    counts: list[int], min_size: int, max_size: int,
) -> list[tuple[np.ndarray, int]]:
    """The blocks as groups of at most ``LEAF_CLUSTERS`` clusters: ``(unit indices, count)``.

    A block of many clusters is cut like a whole table (:func:`optimizer.decompose.split_groups`),
    or kept whole when no cut fits: one dense LP over a block took 21 s of a
    30-s limit (10 000 units, 1 250 clusters, seven regions) and left the
    searches no time.
    """
    out: list[tuple[np.ndarray, int]] = []
    for block, g in zip(blocks, counts):
        parts = (split_groups(X[block], V[block], lo, hi, g, min_size, max_size)
                 if g > LEAF_CLUSTERS else None) or [(np.arange(len(block)), g)]
        out.extend((block[part], count) for part, count in parts)
    return out


def region_groups(problem: Problem, data: ModelData, k: int) -> list[tuple[np.ndarray, int]] | None:
    """Groups for the decomposed start that never straddle two regions, or None.

    Why: when region is a similarity criterion (a ``region=`` feature column), a
    cluster mixing two regions is far from homogeneous, and cuts along the
    table's principal axes leave such clusters at every border. Splitting by
    region first, when the regions can hold whole clusters under sizes and
    bands (:func:`block_counts`), then cutting large regions, gave better
    starts and plans (10 000 units, 1 250 clusters, ±80 %: start 185.0 → 120.8
    sum of squares, plan 171.3 → 133.8 in 30 s). None when region is not a
    criterion, there is one region, or no choice of counts fits.
    """
    import dataclasses

    from optimizer.seed import features_in_unit_order, rule_blocks

    if not any(name.startswith("region=") for name in problem.features.feature_names):
        return None
    by_region = dataclasses.replace(
        problem, rules=dataclasses.replace(problem.rules, one_region=True, one_function=False))
    blocks = rule_blocks(by_region, features_in_unit_order(problem))
    fit = _fitting_counts(problem, data, k, blocks) if len(blocks) >= 2 else None
    if fit is None:
        return None
    X, V, lo, hi, _, min_size, max_size, counts = fit
    return block_parts(X, V, lo, hi, blocks, counts, min_size, max_size)


def _fitting_counts(problem: Problem, data: ModelData, k: int, blocks: list[np.ndarray]):
    """``(X, V, lo, hi, mean, min_size, max_size, counts)`` for the blocks, or None when
    no whole number of clusters per block fits (:func:`block_counts`)."""
    rules, n = problem.rules, data.n
    X = np.asarray(problem.features.values, dtype=np.float64)
    V, lo, hi, mean = balance_arrays(data, k, n)
    min_size, max_size = rules.min_size or 1, rules.max_size or n
    totals = np.array([V[b].sum(axis=0) for b in blocks])
    counts = block_counts([len(b) for b in blocks], totals, k, min_size, max_size, lo, hi)
    if counts is None:
        return None
    return X, V, lo, hi, mean, min_size, max_size, counts


def share_multi_function_units(
    problem: Problem, data: ModelData, k: int, blocks: list[np.ndarray], x: np.ndarray,
) -> list[np.ndarray] | None:
    """one_function: blocks that can all hold whole clusters, moving units of several functions.

    Why: :func:`optimizer.seed.rule_blocks` puts a unit of several functions
    with its most widespread one, which can leave a small function too few
    units or too little population for any whole balanced cluster — then
    :func:`block_counts` finds no counts and the blocks' start is lost (400
    units, 49 clusters of 6–10, ±60 %: the ten health units needed two
    clusters by population and could fill one by size; four units that also
    have that function were elsewhere, and the search found no plan in 30 s).
    Each block that cannot hold any whole number of clusters takes, one at a
    time, the nearest unit (by features) that has its function and whose
    block can spare it; failing that, it is dissolved when each of its units
    has another function whose block (nearest first) can take it. Under
    one_region too, units move only between blocks of their region (3 300
    units, 200 clusters of 10–25: 63 (region, function) blocks, ten of 4–9
    units; no plan in 30 s before). None when a block stays unable or the
    counts still cannot sum to ``k``.
    """
    rules = problem.rules
    if not rules.one_function or len(blocks) < 2:
        return None
    n = data.n
    V, lo, hi, _ = balance_arrays(data, k, n)
    min_size, max_size = rules.min_size or 1, rules.max_size or n
    code = block_codes(blocks, n)
    region_of: list[str | None] = []  # a block's region: any member's that is known
    for units in blocks:
        known = [data.regions[i] for i in units.tolist() if data.regions[i] is not None]
        region_of.append(known[0] if rules.one_region and known else None)

    def common(units: np.ndarray) -> frozenset:
        """The functions every unit of a block shares (rule_blocks keyed it by one)."""
        return frozenset.intersection(*(data.functions[i] for i in units.tolist()))

    def holds(units: np.ndarray) -> bool:
        """Some whole number of clusters fits the units' count and totals."""
        if len(units) == 0:
            return True
        g_lo, g_hi = count_range(len(units), V[units].sum(axis=0), min_size, max_size, lo, hi)
        return g_lo <= g_hi

    def may_join(i: int, b: int, members: list[np.ndarray]) -> bool:
        """Unit ``i`` shares a function with block ``b``'s units and not another region."""
        region = data.regions[i]
        if region_of[b] is not None and region is not None and region != region_of[b]:
            return False
        return len(members[b]) > 0 and bool(common(members[b]) & data.functions[i])

    def pull(b: int, members: list[np.ndarray]) -> bool:
        """Move into ``b`` the nearest unit that may join it and whose block can spare it."""
        centre = x[members[b]].mean(axis=0)
        order = np.argsort(((x - centre) ** 2).sum(axis=1), kind="stable")
        for i in order.tolist():
            donor = int(code[i])
            if donor == b or not may_join(i, b, members):
                continue  # its clusters would have no function (or region) in common
            if holds(members[donor][members[donor] != i]):
                code[i] = b
                return True
        return False

    def dissolve(b: int, members: list[np.ndarray]) -> bool:
        """Move every unit of ``b`` to the nearest other block it may join, if all fit."""
        centres = [x[m].mean(axis=0) if len(m) else None for m in members]
        moved = code.copy()
        for i in members[b].tolist():
            options = [c for c in range(len(blocks))
                       if c != b and centres[c] is not None and may_join(i, c, members)]
            if not options:
                return False
            moved[i] = min(options, key=lambda c: (float(((x[i] - centres[c]) ** 2).sum()), c))
        if not all(holds(np.flatnonzero(moved == c)) for c in set(moved[members[b]].tolist())):
            return False
        code[:] = moved
        return True

    for _ in range(n):
        members = [np.flatnonzero(code == b) for b in range(len(blocks))]
        short = [b for b in range(len(blocks)) if not holds(members[b])]
        if not short:
            break
        b = short[0]
        if not (pull(b, members) or dissolve(b, members)):
            return None
    else:
        return None
    shared = [units for units in (np.flatnonzero(code == b) for b in range(len(blocks)))
              if len(units)]
    return shared if _fitting_counts(problem, data, k, shared) is not None else None
