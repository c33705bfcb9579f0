"""Ctrl-C that carries the plan in hand out of a phase that cannot stop by itself.

Why: the large path's start (LP rounds, the decomposition, the flow
alternation) runs in numpy and HiGHS with no stop checks, so Ctrl-C arrives
as a KeyboardInterrupt wherever Python is. Raised as a plain
KeyboardInterrupt it lost the verified plan the phase already had; these
subclasses carry it to :func:`optimizer.lns.solve_large`, which verifies it
and returns it interrupted. Code unaware of them treats them as Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np


class StartInterrupted(KeyboardInterrupt):
    """Ctrl-C during the balanced start, with the plan it could still put together.

    A KeyboardInterrupt (so code unaware of it treats it as Ctrl-C), carrying
    ``labels`` (every unit placed) and ``violation`` (0: sizes and bands met).
    Raised by the decomposed start (:mod:`optimizer.decompose`), the sizes-only
    flow start (:func:`optimizer.flow_assign.best_of_starts`) and the LP rounds
    of :func:`optimizer.construct.balanced_start`. Why: with a long limit the
    start is most of the wait for a first plan (20 000 units, 300 s: 80 s;
    14 s at 30 s), and Ctrl-C in it lost everything.
    """

    def __init__(self, labels: np.ndarray, violation: float) -> None:
        super().__init__()
        self.labels = labels
        self.violation = violation


class RoundsInterrupted(KeyboardInterrupt):
    """Ctrl-C during alternating rounds, with the last round's labels (or None).

    Raised by :func:`optimizer.repair.lp_balanced` (its rounding, not yet
    repaired) and :func:`optimizer.flow_assign.flow_kmeans` (meeting the
    sizes). Its caller knows whether those labels are the whole table's: the
    start turns them into a :class:`StartInterrupted` (700 units, 60 s: the
    LP rounds are ~10 s of the wait for a first plan); a regional restart's
    are not, and there it is just Ctrl-C.
    """

    def __init__(self, labels: list[int] | None) -> None:
        super().__init__()
        self.labels = labels


class PhaseInterrupted(KeyboardInterrupt):
    """Ctrl-C during an improving phase, with the best whole-table plan it had reached.

    Raised (through :func:`carrying`) by the annealing, the regional restarts and
    the local search, whose ``labels`` (one cluster per unit, the whole table)
    met the sizes and bands at every step they kept. :func:`optimizer.lns.solve_large`
    verifies them and keeps them when they beat the last phase's plan. Why:
    those phases run 10–36 s, and Ctrl-C in one kept only the plan from before
    it (3 300 units F, Ctrl-C 38 s into a 60-s solve, during the regional
    restarts: 2 835.1 kept, where they had reached 2 821.3; 2 805.2 at their end).
    A step cut half-way (a swap with one unit moved) fails the verification,
    and the plan before the phase stands.
    """

    def __init__(self, labels: np.ndarray) -> None:
        super().__init__()
        self.labels = labels


class BoundInterrupted(KeyboardInterrupt):
    """Ctrl-C during a lower bound, with the best value it had proven.

    Every value a Lagrangian or column bound has seen is a valid bound (weak
    duality), so the plan keeps the best one instead of 0: 3 300 units F,
    Ctrl-C 50 s into a 60-s solve, in the population column's bound, reported
    a gap of 0.99–1.0 (0.83 now). ``bound`` is in the raiser's units: integer cost units from
    :func:`optimizer.bound.lagrangian_bound` and
    :func:`optimizer.column_bound.decomposed_bound`, the column's own units
    from a column's bound (which ``decomposed_bound`` converts).
    """

    def __init__(self, bound: float) -> None:
        super().__init__()
        self.bound = bound


@contextmanager
def carrying(best: Callable[[], np.ndarray]) -> Iterator[None]:
    """Turn Ctrl-C inside the block into :class:`PhaseInterrupted` carrying ``best()``.

    ``best`` returns the phase's best whole-table labels at the moment of the
    key press. The outermost phase wins: a :class:`PhaseInterrupted` from a
    call inside (which may hold a region's labels only) is replaced by this
    phase's own plan.
    """
    try:
        yield
    except KeyboardInterrupt:
        raise PhaseInterrupted(np.array(best(), dtype=np.int64, copy=True)) from None
