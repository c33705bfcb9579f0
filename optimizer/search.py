"""One CP-SAT search of a built model, and the small pieces every path shares.

Why a module of its own: the exact path (:mod:`optimizer.solve`), the
large-table phases (:mod:`optimizer.lns`, :mod:`optimizer.neighbourhood`) and
the small-table prover (:mod:`optimizer.small_exact`) all run CP-SAT the same
way — in a worker thread while the caller waits in short joins (so Ctrl-C and
the ``stop`` event interrupt cleanly), with contiguity separator cuts added
lazily and the model re-solved with the best plan as hint — and read plans
back as ``unit -> medoid``. Keeping that here lets them import it at the top
instead of reaching into ``solve`` late to dodge an import cycle.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from optimizer.budget import DTIME_PER_S, Clock
from optimizer.contiguous_graph import reach
from optimizer.data import ModelData
from optimizer.model import AssignmentModel
from optimizer.objective import (
    COST_SCALE,
    central_members,
)
from optimizer.problem import Problem
from optimizer.seed import seed_clusters
from optimizer.solver_wait import wait_cancellable

#: First time slice of a contiguity round; each round with new cuts doubles it.
CONTIGUITY_FIRST_SLICE_S = 1.0

ProgressFn = Callable[["ProgressEvent"], None]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """A better verified plan was found: its objective and the current bound."""

    elapsed_s: float
    objective: float
    bound: float


@dataclass
class _Outcome:
    """Result of one cluster count."""

    n_clusters: int
    medoid_of: list[int] | None = None
    model_cost: int | None = None
    bound: int = 0
    proven: bool = False
    bound_scope: str = "full"
    interrupted: bool = False
    infeasible: bool = False
    iterations: int = 0
    cuts: int = 0
    n_pairs: int = 0
    rules: list[str] = field(default_factory=list)
    seed_labels: list[int] | None = None
    extra: dict[str, object] = field(default_factory=dict)


class _Collector(cp_model.CpSolverSolutionCallback):
    """Reads each solution, keeps the best connected one and the cuts it implies."""

    def __init__(
        self, am: AssignmentModel, accept: Callable[[list[int], int, float], None]
    ) -> None:
        super().__init__()
        self._options: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(am.data.n)]
        for (i, m), var in am.x.items():
            self._options[i].append((m, var))
        self._accept = accept

    def on_solution_callback(self) -> None:
        medoid_of = []
        for opts in self._options:
            chosen = next((m for m, var in opts if self.boolean_value(var)), -1)
            medoid_of.append(chosen)
        self._accept(medoid_of, round(self.objective_value), self.best_objective_bound)


def _run_cpsat(
    am: AssignmentModel,
    problem: Problem,
    seconds: float,
    callback: _Collector,
    stop: threading.Event | None,
    dtime: float | None = None,
) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver, bool]:
    """Solve in a worker thread; this thread waits so Ctrl-C / ``stop`` reach it.

    ``dtime`` bounds CP-SAT's deterministic time (same result on any machine
    with one worker); ``seconds`` is then only a safety stop.
    """
    solver = cp_model.CpSolver()
    settings = problem.settings
    solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    if dtime is not None:
        solver.parameters.max_deterministic_time = max(dtime, 0.001)
    solver.parameters.num_workers = settings.num_workers
    solver.parameters.random_seed = settings.seed
    solver.parameters.log_search_progress = settings.log_search_progress
    # Ctrl-C must reach Python (the waiting thread), not a C++ handler
    solver.parameters.catch_sigint_signal = False
    # the p-median LP is tight: full linearization proves optima ~6x faster (vn34)
    solver.parameters.linearization_level = 2
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["status"] = solver.solve(am.model, callback)
        except BaseException as exc:  # re-raised below, in the calling thread
            result["error"] = exc

    worker = threading.Thread(target=run, name="cumkhoi-cpsat", daemon=True)
    worker.start()

    def finished(timeout: float) -> bool:
        worker.join(timeout)
        return not worker.is_alive()

    interrupted = wait_cancellable(finished, solver.stop_search, stop)
    if "error" in result and not interrupted:
        raise result["error"]
    # interrupted before CP-SAT answered: no response to read, nothing found
    status = result.get("status", cp_model.UNKNOWN)
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT model invalid (bug): {am.model.validate()}")
    return status, solver, interrupted


def _deterministic_time(solver: cp_model.CpSolver, fallback: float) -> float:
    """Deterministic time CP-SAT spent, or the whole budget when it never answered.

    A Ctrl-C that lands before the worker's ``solve`` returns leaves no
    response to read (OR-Tools raises "solve() has not been called").
    """
    try:
        return float(solver.deterministic_time)
    except RuntimeError:
        return fallback


def _response_state(solver: cp_model.CpSolver) -> dict[str, bool]:
    """``{"status": True}`` when CP-SAT answered (its response can be read)."""
    try:
        solver.best_objective_bound  # noqa: B018 — raises before solve() returned
    except RuntimeError:
        return {}
    return {"status": True}


def _disconnected(data: ModelData, medoid_of: list[int]) -> list[tuple[list[int], int]]:
    """Pieces of each cluster not connected to its medoid: ``(piece, medoid)``."""
    assert data.neighbors is not None
    clusters: dict[int, set[int]] = {}
    for i, m in enumerate(medoid_of):
        clusters.setdefault(m, set()).add(i)
    found = []
    for m, members in clusters.items():
        rest = members - reach(m, members, data.neighbors)
        while rest:
            piece = reach(min(rest), rest, data.neighbors)
            rest -= piece
            found.append((sorted(piece), m))
    return found


def _search(
    problem: Problem,
    am: AssignmentModel,
    hint: dict[int, int] | None,
    deadline: float,
    started: float,
    progress: Callable[[ProgressEvent], None] | None,
    stop: threading.Event | None,
    dtime: float | None = None,
    clock: Clock | None = None,
) -> _Outcome:
    """Solve one model, re-solving with separator cuts until no plan is disconnected.

    With ``dtime`` the search (all contiguity rounds) is bounded by CP-SAT
    deterministic time, so one worker gives the same plan on every run;
    ``deadline`` is then a safety stop, recorded on ``clock`` when it fires.
    """
    from optimizer import constraints as C

    data = am.data
    contiguous = problem.rules.contiguous and data.neighbors is not None
    out = _Outcome(n_clusters=am.n_clusters, n_pairs=len(am.x), rules=list(am.rules_used))
    out.bound_scope = "full" if am.candidates.exact else "restricted"
    pending: dict[tuple[tuple[int, ...], int], None] = {}
    bound = 0

    def accept(medoid_of: list[int], cost: int, live_bound: float) -> None:
        if contiguous:
            bad = _disconnected(data, medoid_of)
            if bad:
                for piece, m in bad:
                    pending[tuple(piece), m] = None
                return
        if out.model_cost is None or cost < out.model_cost:
            out.model_cost, out.medoid_of = cost, list(medoid_of)
            if progress is not None:
                progress(
                    ProgressEvent(
                        elapsed_s=time.monotonic() - started,
                        objective=cost / COST_SCALE,
                        bound=min(max(bound, live_bound), cost) / COST_SCALE,
                    )
                )

    added: set[tuple[tuple[int, ...], int]] = set()
    if hint:
        am.hint(hint)
    time_slice = CONTIGUITY_FIRST_SLICE_S * (DTIME_PER_S if dtime is not None else 1.0)
    det_left = dtime if dtime is not None else math.inf
    while True:
        out.iterations += 1
        pending.clear()
        left = deadline - time.monotonic()
        if dtime is None:
            seconds, det = (min(left, time_slice) if contiguous else left), None
        else:
            seconds, det = left, (min(det_left, time_slice) if contiguous else det_left)
        status, solver, interrupted = _run_cpsat(
            am, problem, seconds, _Collector(am, accept), stop, *(() if det is None else (det,))
        )
        out.interrupted = out.interrupted or interrupted
        if det is not None:
            used = _deterministic_time(solver, fallback=det)
            det_left -= used
            if (clock is not None and not interrupted and used < 0.99 * det
                    and status in (cp_model.FEASIBLE, cp_model.UNKNOWN)):
                clock.mark()  # stopped by the wall clock, not by its deterministic budget
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (
                status == cp_model.UNKNOWN and "status" in _response_state(solver)):
            # UNKNOWN still carries a proven objective bound (e.g. under an
            # objective cutoff, optimizer.small_exact): keep it when finite
            live = solver.best_objective_bound
            if math.isfinite(live):
                bound = max(bound, math.ceil(live - 1e-6))
        if status == cp_model.INFEASIBLE:
            out.infeasible = out.medoid_of is None
            break
        if interrupted or status not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
            break
        if out.model_cost is not None and out.model_cost <= bound:
            break
        if dtime is not None and det_left <= 0:
            break
        if time.monotonic() >= deadline - 0.01:
            if clock is not None:
                clock.mark()
            break
        new = [key for key in pending if key not in added]
        if not new:
            if status == cp_model.OPTIMAL or not contiguous:
                break
            time_slice = math.inf  # nothing to cut: give the search all that is left
            continue
        time_slice *= 2
        for piece, m in new:
            out.cuts += C.add_separator_cut(am.model, am.x, am.candidates, data, piece, m)
            added.add((piece, m))
        if out.medoid_of is not None:
            am.hint(dict(enumerate(out.medoid_of)))
    if dtime is not None:
        out.extra["dtime"] = dtime - det_left
    out.bound = bound
    out.proven = (
        am.candidates.exact and out.model_cost is not None and out.model_cost <= bound
    )
    return out


def _seed_labels(problem: Problem, k: int, max_work: int | None = None) -> list[int]:
    """The scikit-learn seed partition (labels in unit order) for hints and pruning;
    ``max_work`` caps KMeans (:func:`optimizer.seed.seed_clusters`)."""
    seed = seed_clusters(problem, k, max_work=max_work)
    return [int(seed.labels[u]) for u in problem.unit_ids]


def _medoids_of(problem: Problem, labels: list[int]) -> dict[int, int]:
    """Unit -> medoid of its seed cluster."""
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(labels):
        groups.setdefault(c, []).append(i)
    out: dict[int, int] = {}
    for members in groups.values():
        m = _medoid(problem, members)
        for i in members:
            out[i] = m
    return out


def _medoid(problem: Problem, members: list[int]) -> int:
    return int(central_members(problem.features, members)[0][0])


