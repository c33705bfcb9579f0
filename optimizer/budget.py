"""Deterministic work allowances for the large-table path, and its safety clock.

Why: with one CP-SAT worker the same input, scenario and seed must give the
same plan (house quality bar). Phases that stop when the wall clock says so
do not: a busy machine stops them earlier. So each phase of
:func:`optimizer.lns.solve_large` gets a *nominal* share of the time limit
(computed from ``settings.time_limit_s`` and the table, never from a clock
reading) and turns it into a count of work — local-search and repair
evaluations, LP rounds, CP-SAT deterministic time — at conservative rates
measured on the benchmark machine (2 cores, shared). The wall clock is only a
safety stop, so a plan always comes by the limit; when that stop is what ended
a phase, :attr:`Clock.stopped` records it and the plan says it may differ from
a rerun.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

#: CP-SAT deterministic time granted per nominal second (conservative: the
#: LNS sub-solves measured 1.4 deterministic units per wall second, 700 units, loaded).
DTIME_PER_S = 0.8
#: Deterministic time charged per LNS round for the Python side (sub-problem,
#: model build, checks), so the number of rounds follows the budget too.
LNS_ROUND_DTIME = 0.05
#: Local-search work units (unit-pair evaluations) per nominal second. Measured
#: with the step overhead below and the 3-cycles: 3.3e8 at 700 units, 3.5e8 at
#: 3 300 (F, seed 0). It was 2.0e7, from before the numpy steps: 3 300 F charged
#: 17 nominal s for 1 s of search, and the restarts never got their turn.
LS_WORK_PER_S = 1.0e8
#: Work units charged per local-search step for its Python and numpy overhead.
STEP_OVERHEAD = 20_000
#: Repair work units per nominal second: a unit-pair evaluation each, and the
#: steps' overheads below converted at that rate (50 ns a unit).
REPAIR_WORK_PER_S = 2.0e7
#: Repair work units charged per unit of the table, once per step (``lab == a``
#: and the other whole-table arrays): a numpy comparison, far cheaper than a pair.
#: It was charged once per neighbour tried, so a "stuck" step's scan of every
#: cluster cost units × clusters: 21 nominal s for 0.5 s of wall at 50 000 units in
#: 8 333 clusters, and still ~3 × its wall once that scan ran in numpy blocks.
REPAIR_SCAN_WORK = 0.02
#: ... plus, per step, its fixed Python overhead and a per-cluster term (the
#: violation, the order of clusters, the centres). Least squares over every
#: repair step of three solves (700 / 3 300 units F seed 0 of the benchmark,
#: 20 000 units in 3 333 clusters under ``max_moves``): 62 µs + 0.34 µs per
#: cluster — 1 ms at 3 333 clusters, where the old charge said 20 µs.
REPAIR_STEP_WORK = 1_300
REPAIR_CLUSTER_WORK = 7
#: Per neighbour the step looks at one by one (``repair._best_among_near``), on
#: top of its unit pairs: 55 µs measured (the same fit), 20–400 µs charged before
#: depending on the table's size.
REPAIR_NEIGHBOUR_WORK = 1_100
#: A stuck step's scan of every cluster in numpy blocks (``repair._best_among_all``):
#: a fixed part and a part per neighbour on top of its unit pairs (measured
#: 190 µs + ~3.5 µs per neighbour; 13.5 ms per scan at 20 000 units in 3 333
#: clusters, which were charged 72 ms). Unit pairs cost 8–16 ns of the 50 ns
#: charged: every term errs on the slow side.
REPAIR_ALL_SCAN_WORK = 4_000
REPAIR_BLOCK_NEIGHBOUR_WORK = 80
#: LP work units per nominal second. A round is charged what it cost
#: (:mod:`optimizer.band_lp`: simplex iterations, columns × rows, columns, a
#: constant — fitted at this rate); a first round is estimated beforehand as
#: columns × rows, the charge of every round through scipy's cold solves, whose
#: rate this was (measured 1.0e8 at 700 units, 1.7e8 at 3 300; again, F seed 0:
#: 7.8e7 at 400, 1.2e8 at 700, 2.4e8 at 3 300 — HiGHS's time grew slower than the
#: product, so the rate was set by the small tables: 1.0e8 let a 400-unit, 8 s
#: solve run into its safety stop).
LP_WORK_PER_S = 7.0e7
#: Min-cost-flow work units (unit→cluster arcs × √n, per round) per nominal second
#: (measured on the loaded machine: 5.6e7 at 700 units, 3.5e7 at 3 300, 3.1e7 at 10 000).
FLOW_WORK_PER_S = 3.0e7
#: Regional flow restarts: work units (region units × clusters + the alternation's
#: weighted arcs) per nominal second (measured 1.75e8 at 3 300 units, loaded).
REGION_WORK_PER_S = 1.5e8
#: Regional restarts under bands (:mod:`optimizer.band_regions`): work units
#: (each try's draw, LP rounds — a call's set-up plus its columns — and repair
#: steps, at the costs measured there) per nominal second (0.25 µs a unit).
BAND_REGION_WORK_PER_S = 4.0e6
#: Annealing (:mod:`optimizer.anneal`): work units (unit pairs of the drawn
#: cluster pairs, plus the per-round and per-pair charges below) per nominal
#: second. Measured (benchmark F, seed 0, the phase alone on its saved input):
#: 4.0e7 at 3 300 units and 3.5e7 at 700 since the swaps are one batched
#: product; 2.9e7 and 3.1e7 before, when the phase ran ~30 % past its nominal
#: time at 3 300 and took it from the bound. With the per-pair charge (whole
#: solves, 30 s): 4.7e7 at 700 units F, 3.5–4.8e7 on `cumkhoi sample` tables
#: of 250–550 clusters.
ANNEAL_WORK_PER_S = 4.0e7
#: Work charged per annealing round for its numpy overhead (pairing, ~20 array
#: calls, the neighbour lists' refresh) and per cluster pair drawn (its options'
#: set-up and the step applied). Before the per-pair charge, clusters of 6 ran at
#: 1.5–1.9e7 work units a second, not 4e7 (3 300 units in 550 clusters: the
#: annealing took 72 s for its 26 nominal s at a 120-s limit, the clock stopped
#: it, the plan changed from run to run and the bound got no time). Fitted on five
#: shapes (50–550 clusters of 6–33, 12–19 columns): ~0.27 ms a round plus ~3.7 µs
#: a pair plus ~19 ns a unit pair, i.e. ~11 000 + 150 × pairs + 0.75 × unit pairs;
#: charged as 11 000 + 150 × pairs + unit pairs (measured after: 3.5–4.8e7 a second).
ANNEAL_ROUND_WORK = 11_000
ANNEAL_PAIR_WORK = 150


@dataclass
class Clock:
    """The wall-clock safety stop of one solve; never used to decide, only to stop.

    ``stopped`` turns True the first time :meth:`expired` finds the deadline
    passed (or a phase reports it was cut by the clock via :meth:`mark`).
    ``charged_s`` adds up the nominal seconds of the work phases did
    (:meth:`charge`), so later phases get what the earlier ones left — a
    count, not a clock reading.
    """

    deadline: float
    stopped: bool = False
    #: Nominal seconds charged so far for the work done (deterministic).
    charged_s: float = 0.0
    #: The caller's ``stop`` (``solve(..., stop=)``), or None.
    stop: threading.Event | None = None

    def halted(self) -> bool:
        """Whether the caller asked the solve to stop: a phase that can stop ends now
        with its best plan (the planner asked for the plan in hand).

        Why: ``stop`` used to be checked only between phases, which run 10–36 s
        at 3 300 units and minutes at 50 000 (the sizes-only regional restarts:
        ~200 s), so a stop button waited for the phase's end. Not a clock stop:
        nothing is marked, and the plan is reported interrupted instead.
        """
        return self.stop is not None and self.stop.is_set()

    def expired(self, margin: float = 0.0) -> bool:
        """True (and remembered) when less than ``margin`` seconds are left."""
        if time.monotonic() >= self.deadline - margin:
            self.stopped = True
            return True
        return False

    def left(self) -> float:
        """Seconds left before the safety stop (never negative)."""
        return max(self.deadline - time.monotonic(), 0.0)

    def charge(self, units: float, rate: float) -> None:
        """Charge ``units`` of work done at the nominal ``rate`` (units per second)."""
        self.charged_s += units / rate

    def mark(self) -> None:
        """Record that a phase was cut by the wall clock."""
        self.stopped = True


def must_stop(deadline: float, clock: Clock | None) -> bool:
    """Whether a stoppable phase ends here: the wall-clock safety stop passed (marked on
    ``clock``) or the caller asked to stop (:meth:`Clock.halted`). Neither decides
    anything the work allowances would not; both only stop."""
    if time.monotonic() >= deadline:
        if clock is not None:
            clock.mark()
        return True
    return clock is not None and clock.halted()


def work(seconds: float, rate: float) -> int:
    """Work units for ``seconds`` of nominal time at ``rate`` (at least 1)."""
    return max(int(seconds * rate), 1)


#: Time limits that suit a table's size: (at most this many units, seconds); larger
#: tables get :data:`LARGEST_TIME_LIMIT_S`. See :func:`suggested_time_limit`.
TIME_LIMIT_STEPS_S = ((2_000, 30), (5_000, 60), (15_000, 120), (30_000, 300))
LARGEST_TIME_LIMIT_S = 600


def suggested_time_limit(n_units: int) -> int:
    """Seconds that make a first plan of ``n_units`` worth reading: ``cumkhoi init``'s
    starter value, and the number the notes give when the clock cut a shorter run.

    Why: 30 s is plenty at 1 000 units but not at scale, where the start alone
    takes 5–14 s and the lower bound gets what the search leaves. Measured on
    ``cumkhoi sample --seed 2`` tables with ``cumkhoi init``'s own scenarios
    (clusters of ~6, population band, one worker; plan cost / gap):

    * 1 000 units: 333.5 / 0.28 at 10 s, 336.3 / 0.24 at 30 s, 333.0 / 0.23 at 60 s;
    * 3 300 units: 494.3 / 0.31 at 30 s, 474.6 / 0.26 at 60 s;
    * 10 000 units: 822 / 0.90–0.98 at 30 s, 745 / 0.55 at 60 s, 726 / 0.42 at 120 s;
    * 20 000 units: 1 508 / 0.999 at 30 s, 1 475 / 0.97 at 60 s, 1 279 / 0.72 at
      120 s, 1 163 / 0.62 at 300 s;
    * 50 000 units: 3 549 / 0.73 at 60 s, 3 246 / 0.70 at 120 s, 2 659 / 0.63 at 300 s
      (done at 235 s), 2 611 / 0.62 at 600 s (done at 425 s).

    A gap near 1 proves nothing to a planner, and a plan 10–25 % costlier than
    a few more minutes give is not the one to sign.
    """
    for most, seconds in TIME_LIMIT_STEPS_S:
        if n_units <= most:
            return seconds
    return LARGEST_TIME_LIMIT_S


def bound_seconds(share_s: float, spare_s: float, wanted_s: float | None) -> float:
    """Nominal seconds for the lower bound: its share, topped up from the phases' unspent time.

    The phases often end before their nominal time (they converge), while the
    bound at 3 300+ units is far from converged in its share. ``wanted_s``
    None (the decomposed F bound, which stops itself once converged) takes all
    of ``spare_s``; otherwise the top-up stops at ``wanted_s`` (what the
    Lagrangian needs for a useful number of steps), so a fast sizes-only solve
    stays fast. Pass ``spare_s = 0`` after Ctrl-C.
    """
    if wanted_s is None:
        return share_s + spare_s
    return max(share_s, min(share_s + spare_s, wanted_s))
