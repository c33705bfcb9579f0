"""The small-table p-median model as a MIP for HiGHS: the proof CP-SAT is slow to find.

Why: at ≤ 100 units with sizes only, the heuristic incumbent is usually
optimal already and what remains is the *proof*. CP-SAT (2 workers) took 0.6–24 s
to prove the six benchmark tables (63 / 100 units, K = 8); HiGHS's branch and
cut on the same model, with the same reduced-cost fixing, proves them in a
fraction of that, because the disaggregated p-median LP (``x[i, m] ≤ x[m, m]``)
is nearly integral and HiGHS branches on its LP while CP-SAT mostly searches.

The model is the one :mod:`optimizer.model` gives CP-SAT, restricted to the
pairs the fixing kept: ``x[i, m]`` (unit ``i`` in the cluster whose medoid is
``m``; ``x[m, m]`` opens it), one cluster per unit, ``k`` clusters, sizes and
balance bands per open cluster. HiGHS starts from the incumbent (a MIP
start), so "optimal" either returns it proven or a cheaper plan.

Honesty of the bound: the band rows use the model's integer-scaled values
(ceil for the upper limit, floor for the lower one) divided by the band's
width scale and then *loosened* by :data:`BAND_SLACK`, so HiGHS's tolerances
can only admit extra plans, never cut one off: every bound and every
infeasibility it reports holds for the exact model. A plan it returns is
rebuilt from the rounded ``x`` and kept only if it meets the exact integer
rows (the caller then runs ``check_plan`` as for every plan).

Only for models whose rules are these (:func:`mip_applies`); pairwise rules,
regions, functions, contiguity and moves stay with CP-SAT.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import coo_matrix, vstack

from optimizer.highs import new_highs, run_cancellable
from optimizer.model import AssignmentModel

#: Rules the MIP states exactly (``AssignmentModel.rules_used`` names).
MIP_RULES = frozenset({"partition", "count", "size", "balance"})
#: Relative loosening of each band row (after normalising the band to ~1), so
#: solver tolerances never cut off a plan of the exact model.
BAND_SLACK = 1e-7
#: Costs are integers, so a gap below 1 proves optimality (HiGHS's default relative gap would not).
MIP_ABS_GAP = 0.999
#: HiGHS presolve. Off: the fixing already removed what presolve would, and its
#: reductions slowed the proofs (60 s limit: 63 units S seed 2 3.7 s of MIP off
#: vs 4.7 s on, 63 F seed 0 proven in 37 s vs 46 s; 100 S seed 1 1.3 s vs 1.1 s).
MIP_PRESOLVE = "off"
#: HiGHS's sub-MIP heuristics (RENS, RINS) when the model has no band rows. Off: with
#: sizes only the incumbent is the optimum on most tables and the proof is the work;
#: measured, 60 s limit, K = 8, S: 63 units seed 2 MIP 4.9 → 3.1 s (13 nodes either
#: way), 100 units seeds 3 / 6 5.7 → 4.2 s / 2.8 → 1.8 s, the others unchanged and every
#: plan the same. With a band they stay on: F's gaps at 30 s were no better without
#: them (0.030 / 0.055 / 0.042 against 0.024 / 0.038 / 0.053 at 63 units).
SUBMIP_HEURISTICS_WITHOUT_BANDS = False


@dataclass(frozen=True)
class MipResult:
    """What one HiGHS run established about plans cheaper than ``upper``.

    ``medoid_of`` is a plan cheaper than the incumbent (exact rows checked)
    or None; ``bound`` a lower bound on every plan of the model, at most the
    best plan's cost (integer cost units); ``proven``: no plan of the model is
    cheaper than the best plan; ``status`` HiGHS's model status, for details.
    """

    medoid_of: list[int] | None
    cost: int | None
    bound: int
    proven: bool
    status: str
    seconds: float
    interrupted: bool = False
    #: Branch-and-bound nodes HiGHS processed.
    nodes: int = 0


def mip_applies(am: AssignmentModel) -> bool:
    """Whether every rule in the model is one the MIP states (and no move cost)."""
    return set(am.rules_used) <= MIP_RULES and not am.move_cost


def solve_mip(
    am: AssignmentModel,
    incumbent: list[int],
    *,
    min_size: int | None,
    max_size: int | None,
    dropped: Iterable[tuple[int, int]] = (),
    time_limit: float,
    seed: int = 0,
    stop: threading.Event | None = None,
) -> MipResult:
    """Prove ``incumbent`` (unit → medoid, a plan of the model) optimal or find a cheaper plan.

    ``dropped`` must only hold pairs no plan cheaper than the incumbent uses
    (the reduced-cost fixing's), so the result holds for the whole model; the
    incumbent's own pairs must be kept. HiGHS runs in its own thread: a set
    ``stop`` or Ctrl-C cancels it within ~0.05 s (``interrupted``), keeping
    what it proved so far. A run the time limit ends before the proof can end
    at another plan on a rerun (the plan says so, :func:`optimizer.solve.solve`):
    HiGHS has no deterministic work limit, and a node allowance is no
    substitute (measured, K = 8, 30 s: 36–105 nodes/s at 63 units F, 1.3–18
    at 100 units F, where the root's cuts take most of the time).
    """
    started = time.monotonic()
    gone = set(dropped)
    data, k, n = am.data, am.n_clusters, am.data.n
    upper = int(sum(am.cost[i, m] for i, m in enumerate(incumbent)))
    keys = [(i, m) for i, m in am.x if (i, m) not in gone and (m, m) not in gone]
    index = {key: j for j, key in enumerate(keys)}
    nv = len(keys)
    rows_i = np.fromiter((i for i, _ in keys), dtype=np.int64, count=nv)
    cols_m = np.fromiter((m for _, m in keys), dtype=np.int64, count=nv)
    cost = np.fromiter((am.cost[key] for key in keys), dtype=np.float64, count=nv)
    medoids = sorted({m for _, m in keys})
    med_row = {m: r for r, m in enumerate(medoids)}
    diag = np.asarray([index[m, m] for m in medoids], dtype=np.int64)
    col_row = np.asarray([med_row[m] for m in cols_m.tolist()], dtype=np.int64)
    var, d = np.arange(nv), np.arange(len(medoids))
    blocks: list[coo_matrix] = []
    lo: list[float] = []
    hi: list[float] = []

    def block(r, c, v, n_rows: int, lower: float, upper_: float) -> None:
        blocks.append(coo_matrix((v, (r, c)), shape=(n_rows, nv)))
        lo.extend([lower] * n_rows)
        hi.extend([upper_] * n_rows)

    block(rows_i, var, np.ones(nv), n, 1.0, 1.0)  # each unit in one cluster
    off = np.flatnonzero(rows_i != cols_m)
    r = np.arange(len(off))
    block(np.r_[r, r], np.r_[off, diag[col_row[off]]],
          np.r_[np.ones(len(off)), -np.ones(len(off))], len(off), -np.inf, 0.0)  # x[i,m] ≤ x[m,m]
    block(np.zeros(len(diag), dtype=np.int64), diag, np.ones(len(diag)), 1, k, k)
    sizes = [(max(min_size or 1, 1), 0.0, np.inf)]
    if max_size is not None:
        sizes.append((max_size, -np.inf, 0.0))
    for coef, lower, upper_ in sizes:
        block(np.r_[col_row, d], np.r_[var, diag], np.r_[np.ones(nv), -coef * np.ones(len(d))],
              len(d), lower, upper_)
    for col in data.balance:
        band_lo, band_hi = col.band_scaled(k)
        norm = float(max(abs(band_hi), abs(band_lo), 1))
        slack = BAND_SLACK * max(band_hi - band_lo, 1) / norm
        for values, edge, lower, upper_ in ((col.ceil_scaled, band_hi, -np.inf, slack),
                                            (col.floor_scaled, band_lo, -slack, np.inf)):
            block(np.r_[col_row, d], np.r_[var, diag],
                  np.r_[values[rows_i] / norm, -(edge / norm) * np.ones(len(d))],
                  len(d), lower, upper_)
    matrix = vstack(blocks).tocsc()
    h = _highs(time_limit, seed, banded=bool(data.balance))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nv, matrix.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(nv), np.ones(nv)
    lp.row_lower_, lp.row_upper_ = np.asarray(lo), np.asarray(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        matrix.indptr, matrix.indices, matrix.data)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * nv
    h.passModel(lp)
    start = highspy.HighsSolution()
    x0 = np.zeros(nv)
    x0[[index[i, m] for i, m in enumerate(incumbent)]] = 1.0
    start.col_value = x0.tolist()
    h.setSolution(start)
    interrupted = run_cancellable(h, stop)
    seconds = time.monotonic() - started
    status = h.modelStatusToString(h.getModelStatus())
    plan, plan_cost = None, None
    info = h.getInfo()
    if info.primal_solution_status == int(highspy.SolutionStatus.kSolutionStatusFeasible):
        plan = _plan(np.asarray(h.getSolution().col_value), rows_i, cols_m, n)
        if plan is not None and _meets_rows(am, plan, min_size or 1, max_size):
            plan_cost = int(sum(am.cost[i, m] for i, m in enumerate(plan)))
            if plan_cost >= upper:
                plan, plan_cost = None, None
        else:
            plan = None
    best = upper if plan_cost is None else plan_cost
    # the bound is HiGHS's own (of the loosened model, so valid for the exact
    # one), never "optimal ⇒ best": an optimum HiGHS found on the loosened
    # rows but _meets_rows rejected may lie below ``best``
    dual = info.mip_dual_bound
    bound = min(max(math.ceil(dual - 1e-6), 0), best) if math.isfinite(dual) else 0
    return MipResult(plan, plan_cost, bound, bound >= best, status, seconds, interrupted,
                     nodes=int(info.mip_node_count))


def _highs(time_limit: float, seed: int, *, banded: bool) -> highspy.Highs:
    """A silent, deterministic HiGHS with a time limit and an interruptible solve
    (``banded``: the model has balance rows, see :data:`SUBMIP_HEURISTICS_WITHOUT_BANDS`)."""
    h = new_highs()
    h.silent()
    h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", MIP_ABS_GAP)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("presolve", MIP_PRESOLVE)
    if not banded:
        h.setOptionValue("mip_heuristic_run_rens", SUBMIP_HEURISTICS_WITHOUT_BANDS)
        h.setOptionValue("mip_heuristic_run_rins", SUBMIP_HEURISTICS_WITHOUT_BANDS)
    return h


def _plan(x: np.ndarray, rows_i: np.ndarray, cols_m: np.ndarray, n: int) -> list[int] | None:
    """Unit → medoid from a rounded solution; None unless every unit has exactly one."""
    on = x > 0.5
    if np.bincount(rows_i[on], minlength=n).tolist() != [1] * n:
        return None
    plan = np.empty(n, dtype=np.int64)
    plan[rows_i[on]] = cols_m[on]
    return plan.tolist()


def _meets_rows(am: AssignmentModel, plan: list[int], min_size: int, max_size: int | None) -> bool:
    """The exact integer rows of the CP-SAT model: medoids open, count, sizes, bands."""
    medoids = sorted(set(plan))
    if len(medoids) != am.n_clusters or any(plan[m] != m for m in medoids):
        return False
    labels = np.asarray(plan)
    size = {m: int((labels == m).sum()) for m in medoids}
    if any(s < min_size or (max_size is not None and s > max_size) for s in size.values()):
        return False
    for col in am.data.balance:
        band_lo, band_hi = col.band_scaled(am.n_clusters)
        for m in medoids:
            members = labels == m
            if int(col.ceil_scaled[members].sum()) > band_hi:
                return False
            if int(col.floor_scaled[members].sum()) < band_lo:
                return False
    return True
