"""Wait for a solver running in its own thread, so Ctrl-C and a stop request reach it.

Why one helper: CP-SAT (:mod:`optimizer.search`) and HiGHS
(:mod:`optimizer.mip_exact`) both solve in a worker thread while this
thread polls; Python delivers KeyboardInterrupt only to the main thread, and
only between bytecodes, so a blocking solve would swallow Ctrl-C until it
ended. The polling, the cancel on ``stop`` and the "keep waiting after a
cancel, whatever more Ctrl-C arrive" rule were the same code twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: Seconds between checks of the stop request while a solver runs.
POLL_S = 0.05


def wait_cancellable(
    finished: Callable[[float], bool], cancel: Callable[[], None],
    stop: threading.Event | None,
) -> bool:
    """Poll ``finished(timeout)`` until True; ``stop`` or Ctrl-C call ``cancel`` once.

    Returns True when the solve was cancelled or ``stop`` is set when it ends
    (the caller must not start more work). After a cancel it keeps
    waiting (the solver returns its best so far), ignoring further Ctrl-C.
    """
    interrupted = False
    while True:
        try:
            if finished(POLL_S):
                # a stop that arrived during the last poll still stops the caller's later work
                return interrupted or (stop is not None and stop.is_set())
            if stop is not None and stop.is_set() and not interrupted:
                cancel()
                interrupted = True
        except KeyboardInterrupt:
            if not interrupted:
                cancel()
                interrupted = True
