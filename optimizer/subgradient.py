"""The step factor shared by the Lagrangian bounds' subgradient loops.

Why: the four Lagrangian loops (:mod:`optimizer.bound`,
:mod:`optimizer.band_bound`, :mod:`optimizer.pair_fixing`,
:mod:`optimizer.column_bound`) keep the best value seen and shrink their
Polyak step factor after a run of evaluations without a better one — the
textbook rule (Held, Wolfe and Crowder). One implementation of it; each loop
keeps its own step formula and stopping test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StepFactor:
    """Polyak step factor ``theta``, multiplied by ``decay`` after ``patience`` evaluations
    in a row without a better bound."""

    theta: float
    patience: int
    decay: float = 0.5
    stale: int = 0

    def update(self, improved: bool) -> None:
        """Record one evaluation: a better bound resets the count, else it may shrink ``theta``."""
        if improved:
            self.stale = 0
            return
        self.stale += 1
        if self.stale >= self.patience:
            self.theta, self.stale = self.theta * self.decay, 0
