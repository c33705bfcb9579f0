"""A proven floor for the population column's part of any scenario-F plan (column generation).

Why: issue 7 asks for F dispersion ≤ 0.35 × the plain model's at 3 300 units
and ≤ 0.75 × at 700, and cumkhoi stops short. ``f_floor.py`` splits the
dispersion by criterion and shows the population column (the balanced
quantity, also a similarity criterion) holds most of it; but the
"population alone" figure there is a heuristic plan, and the product's own
bound for that column (:mod:`optimizer.column_bound`) sits ~20 % under it.
This module settles which of the two is loose. It bounds

    min over plans meeting F's rules of Σ_clusters Σ_i∈C (z_i − mean_C z)²

from below with the set-partitioning LP of that problem — a column is one
cluster (``lo..hi`` units whose populations sum into the band) — solved by
column generation whose pricing is *exact*: a dynamic programme over
(units, count, population cells) per centre cell. The product's bound
dualises the band inside the cluster subproblem instead (cheap: a sort), and
that lets a too-light and a too-heavy cluster average into the band; the DP
does not.

Validity of the reported bound: for any multipliers ``π`` the Lagrangian
``Σ π + k · min_S (cost(S) − π(S))`` is a lower bound (exactly ``k``
clusters, each at least the cheapest reduced cost). The proof prices with
*cells*: a centre ``t`` in a cell costs each unit at least its squared
distance to the cell, so the DP over equal-width cells (:data:`PROOF_CELLS`)
bounds every cluster's cost from below; population weights are rounded
*down* with the lower band end loosened by one cell per member, so every
feasible cluster is among the DP's sets. Column generation itself prices at
centre *points* (exact costs, a heuristic: it finds good columns but proves
nothing), and the proof is evaluated at its final multipliers. The master's
LP value is printed too; only the Lagrangian value is a proof.

Pure numpy + HiGHS; slow (700 units: ~600 rounds, 12 min; each round keeps
~0.7 GB of DP decisions) — a measurement, not part of the product. Usage: ``python benchmarks/f_floor.py --size 700 --lp``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

#: Centre points column generation prices at, evenly spaced over the column's
#: range. Quantile points leave the tails coarse, and there the columns they
#: miss kept the proof low (700 units, seed 0: 40 quantile points, LP 461, proof
#: at its multipliers 341; 120 even points, LP 459.2, proof 431).
CENTRE_POINTS = 120
#: Equal-width cells the proof's pricing cuts the column's range into (a cell
#: of width w leaves at most members × (w/2)² of a cluster's cost unpriced).
PROOF_CELLS = 1024
#: Population cells up to the band's upper end: the DP's weight resolution for
#: columns, and for the proof, whose lower band end is loosened by one cell per
#: member (700 units, the same multipliers: 512 / 1024 / 2048 weight cells
#: prove 348 / 411 / 430).
WEIGHT_CELLS = 512
PROOF_WEIGHT_CELLS = 2048
#: Cells of margin at each band end for the columns' nearest-rounded weights
#: (every column is then checked exactly).
COLUMN_GUARD = 1


@dataclass(frozen=True)
class PartitionFloor:
    """The proven bound, the restricted master's LP value, rounds and columns used, seconds."""

    bound: float
    lp: float
    rounds: int
    columns: int
    seconds: float


def point_costs(z: np.ndarray, points: int) -> np.ndarray:
    """``cost[g, i] = (z_i − t_g)²`` at evenly spaced centre points (exact costs at those centres)."""
    t = np.linspace(float(z.min()), float(z.max()), points)
    return (z[None, :] - t[:, None]) ** 2


def cell_costs(z: np.ndarray, cells: int) -> np.ndarray:
    """``cost[g, i]``: squared distance of ``z_i`` to cell ``g`` of equal width (a lower bound for any centre in it)."""
    edges = np.linspace(float(z.min()), float(z.max()), cells + 1)
    a, b = edges[:-1], edges[1:]
    return np.maximum(np.maximum(a[:, None] - z[None, :], z[None, :] - b[:, None]), 0.0) ** 2


def within_ss(z: np.ndarray, members: np.ndarray) -> float:
    """The column's real cost: its sum of squares around its own mean."""
    v = z[members]
    return float(((v - v.mean()) ** 2).sum())


class _Pricing:
    """Exact pricing: per centre (point or cell), the cheapest set of ``lo..hi`` units in the (rounded) band."""

    def __init__(self, z, p, lo, hi, band_lo, band_hi, cost, weight_cells, *, proof: bool):
        self.z, self.p, self.lo, self.hi = z, p, lo, hi
        self.band_lo, self.band_hi = band_lo, band_hi
        self.cost, self.proof = cost, proof
        step = band_hi / weight_cells
        self.top = int(np.floor(band_hi / step))
        if proof:
            # weights rounded down, lower end loosened by one cell per member:
            # every feasible set's rounded weight lies in [loose_lo, top]
            self.w = np.floor(p / step).astype(np.int64)
            self.loose_lo = max(int(np.floor(band_lo / step)) - hi, 0)
        else:
            # columns: nearest weights, a cell's guard at each end, then the exact check
            self.w = np.rint(p / step).astype(np.int64)
            self.strict_lo = int(np.ceil(band_lo / step)) + COLUMN_GUARD
            self.strict_hi = self.top - COLUMN_GUARD
            self.loose_lo = self.strict_lo

    def run(self, pi: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """(min reduced cost over the window, and for columns one set per centre).

        A proof keeps no decisions (at 1 024 cells they would take gigabytes).
        """
        sets = not self.proof
        g, hi, top = self.cost.shape[0], self.hi, self.top
        r = self.cost - pi[None, :]
        dp = np.full((g, hi + 1, top + 1), np.inf)
        dp[:, 0, 0] = 0.0
        takes = []
        for i in range(len(self.z)):
            a = int(self.w[i])
            if a > top:
                takes.append(None)
                continue
            cand = dp[:, :-1, : top + 1 - a] + r[:, i][:, None, None]
            target = dp[:, 1:, a:]
            better = cand < target
            np.copyto(target, cand, where=better)
            takes.append(better if sets else None)
        loose = dp[:, self.lo :, self.loose_lo :].min(axis=(1, 2))
        found: list[np.ndarray] = []
        if sets and self.strict_lo <= self.strict_hi:
            window = dp[:, self.lo :, self.strict_lo : self.strict_hi + 1]
            for cell in range(g):
                flat = int(np.argmin(window[cell]))
                k, w = np.unravel_index(flat, window[cell].shape)
                if not np.isfinite(window[cell][k, w]):
                    continue
                found.append(self._backtrack(takes, cell, int(k) + self.lo, int(w) + self.strict_lo))
        return float(loose.min()), found

    def _backtrack(self, takes, cell: int, k: int, w: int) -> np.ndarray:
        members = []
        for i in range(len(takes) - 1, -1, -1):
            t = takes[i]
            if k == 0:
                break
            a = int(self.w[i])
            if t is not None and w >= a and t[cell, k - 1, w - a]:
                members.append(i)
                k, w = k - 1, w - a
        return np.array(sorted(members), dtype=np.int64)

    def feasible(self, members: np.ndarray) -> bool:
        total = float(self.p[members].sum())
        return self.lo <= len(members) <= self.hi and self.band_lo <= total <= self.band_hi


def partition_floor(
    z: np.ndarray, p: np.ndarray, k: int, lo: int, hi: int, band_lo: float, band_hi: float,
    start_labels: np.ndarray, *, max_rounds: int = 600, points: int = CENTRE_POINTS,
    cells: int = PROOF_CELLS, weight_cells: int = WEIGHT_CELLS,
    proof_weight_cells: int = PROOF_WEIGHT_CELLS, log: Callable[[str], None] | None = None,
) -> PartitionFloor:
    """Column generation for the 1D problem from a plan meeting the rules (``start_labels``)."""
    started = time.perf_counter()
    z, p = np.asarray(z, dtype=np.float64), np.asarray(p, dtype=np.float64)
    n = len(z)
    pricing = _Pricing(z, p, lo, hi, band_lo, band_hi, point_costs(z, points), weight_cells,
                       proof=False)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    empty_i, empty_f = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
    h.addRows(n, np.ones(n), np.full(n, inf), 0, empty_i, empty_i, empty_f)  # cover each unit
    h.addRow(k, k, 0, empty_i, empty_f)  # exactly k clusters
    seen: set[tuple[int, ...]] = set()

    def add(members: np.ndarray) -> None:
        seen.add(tuple(members.tolist()))
        rows = np.append(members, n).astype(np.int32)
        h.addCol(within_ss(z, members), 0.0, inf, len(rows), rows, np.ones(len(rows)))

    for c in np.unique(start_labels):
        members = np.flatnonzero(start_labels == c)
        if not pricing.feasible(members):
            raise ValueError("the start plan breaks the sizes or the band")
        add(members)
    lp, rounds, pi = np.inf, 0, np.zeros(n)
    for rounds in range(1, max_rounds + 1):
        h.run()
        lp = h.getInfo().objective_function_value
        duals = np.asarray(h.getSolution().row_dual)
        pi, mu = duals[:n], duals[n]
        _, sets = pricing.run(pi)
        added = 0
        for members in sets:
            key = tuple(members.tolist())
            if key in seen or not pricing.feasible(members):
                continue
            if within_ss(z, members) - pi[members].sum() - mu < -1e-9:
                add(members)
                added += 1
        if log is not None and (rounds % 25 == 0 or not added):
            log(f"round {rounds}: LP {lp:.2f}, columns {len(seen)}, "
                f"{time.perf_counter() - started:.0f} s")
        if not added:
            break
    # the proof: the same Lagrangian priced over cells, at the master's final multipliers
    proof = _Pricing(z, p, lo, hi, band_lo, band_hi, cell_costs(z, cells), proof_weight_cells,
                     proof=True)
    bound = float(pi.sum() + k * proof.run(pi)[0])
    return PartitionFloor(max(bound, 0.0), lp, rounds, len(seen), time.perf_counter() - started)
