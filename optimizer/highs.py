"""HiGHS instances made quietly, and solved so that Ctrl-C and ``stop`` reach them.

Shared by the small tables' MIP (:mod:`optimizer.mip_exact`) and the warm
balanced assignment LP (:mod:`optimizer.band_lp`).
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

from optimizer.solver_wait import wait_cancellable


def new_highs() -> highspy.Highs:
    """A Highs instance made with the process's stdout (fd 1) pointed at /dev/null.

    Why: HiGHS prints its licence banner from C++ on the first construction,
    before any option can silence it — it would land in the middle of
    ``cumkhoi plan``'s output (and of JSON a script reads from stdout).
    """
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)  # no file is written
    try:
        os.dup2(null, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def run_cancellable(h: highspy.Highs, stop: threading.Event | None) -> bool:
    """Solve in HiGHS's thread; ``stop`` or Ctrl-C cancel it. True when cancelled."""
    h.HandleUserInterrupt = True
    h.startSolve()
    return wait_cancellable(lambda timeout: h.wait(timeout)[0], h.cancelSolve, stop)
