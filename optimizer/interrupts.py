"""Ctrl-C that carries the plan in hand out of a phase that cannot stop by itself.

Why: the large path's start (LP rounds, the decomposition, the flow
alternation) runs in numpy and HiGHS with no stop checks, so Ctrl-C arrives
as a KeyboardInterrupt wherever Python is. Raised as a plain
KeyboardInterrupt it lost the verified plan the phase already had; these
subclasses carry it to :func:`optimizer.lns.solve_large`, which verifies it
and returns it interrupted. Code unaware of them treats them as Ctrl-C.
"""

from __future__ import annotations

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
