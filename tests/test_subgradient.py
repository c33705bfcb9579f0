"""The shared Polyak step factor of the Lagrangian loops."""

from __future__ import annotations

from optimizer.subgradient import StepFactor


def test_shrinks_after_patience_and_a_gain_resets_the_count() -> None:
    step = StepFactor(1.0, patience=2, decay=0.25)
    step.update(False)
    assert step.theta == 1.0  # one miss: not yet
    step.update(True)
    step.update(False)
    assert step.theta == 1.0  # the gain reset the count
    step.update(False)
    assert step.theta == 0.25 and step.stale == 0
    step.update(False)
    step.update(False)
    assert step.theta == 0.0625
