"""How Ctrl-C answers: does a plan survive, and how long after the key press does it come?

Why: a planner presses Ctrl-C when a long run has shown a good enough
objective. The phases of the large path (numpy, HiGHS) have no stop checks,
so Ctrl-C arrives as a KeyboardInterrupt wherever Python is; until the
sixteenth session one landing after the start lost the plan. This prints,
for each table, scenario and moment, what ``solve`` returned and when.

The benchmark's own tables (``instances.py``: similarity on function, scale
and location; S = sizes only, F = sizes and ±10 % population), one process,
Ctrl-C by ``_thread.interrupt_main`` (what the terminal's SIGINT raises)::

    python benchmarks/ctrl_c.py --sizes 700 3300 --time-limit 60 --at 2 5 10 30

Columns: ``first plan`` — when the first verified plan was reported to the
progress callback; ``answer`` — seconds from the interrupt to ``solve``'s
return (the CLI then writes the files: ~1 s more); ``outcome`` — ``kept`` (a
plan, ``interrupted``), ``finished`` (the solve ended before the interrupt),
``none yet`` (no plan had been reported: Ctrl-C aborts), or ``LOST`` (a plan
had been reported and Ctrl-C lost it — a bug); ``objective`` of the plan
returned; ``phases run`` — the large path's phases in the order they ended
(``interrupted`` marks where the key press landed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.instances import (  # noqa: E402
    POPULATION,
    TOLERANCE_F,
    load_problem_inputs,
    prepare_instance,
)
from optimizer.problem import Problem, Rules, SolverSettings  # noqa: E402
from optimizer.solve import solve  # noqa: E402


def _problem(size: int, seed: int, scenario: str, time_limit: float, folder: Path) -> Problem:
    inst = prepare_instance(size, seed, folder)
    profiles, features = load_problem_inputs(inst.units_path)
    balance = {POPULATION: TOLERANCE_F} if scenario == "F" else {}
    rules = Rules(n_clusters=inst.n_clusters, min_size=inst.min_size, max_size=inst.max_size,
                  balance=balance)
    return Problem(name=f"{size}-{scenario}", profiles=profiles, features=features, rules=rules,
                   settings=SolverSettings(time_limit_s=time_limit, seed=seed, num_workers=2))


def interrupt_once(problem: Problem, at_s: float) -> dict[str, object]:
    """Solve ``problem``, raising Ctrl-C in this thread ``at_s`` seconds in."""
    import _thread

    reported: list[float] = []
    started = time.monotonic()
    timer = threading.Timer(at_s, _thread.interrupt_main)
    timer.start()
    try:
        plan = solve(problem, progress=lambda _e: reported.append(time.monotonic() - started))
        ended = time.monotonic() - started
        outcome = "kept" if plan.interrupted else "finished"
        gap, objective = plan.gap, plan.objective
        phases = str(plan.details.get("phase_wall_s", ""))
    except KeyboardInterrupt:
        ended = time.monotonic() - started
        outcome = "LOST" if any(t < at_s for t in reported) else "none yet"
        gap = objective = None
        phases = ""
    finally:
        timer.cancel()
    try:  # a late timer firing after solve() returned
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    return {"first": reported[0] if reported else None, "outcome": outcome,
            "answer": ended - at_s if outcome != "finished" else None, "ended": ended, "gap": gap,
            "objective": objective,
            "phases": " ".join(part.split("=")[0] for part in phases.split())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[700, 3300])
    parser.add_argument("--scenarios", nargs="+", choices=["S", "F"], default=["S", "F"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--at", type=float, nargs="+", default=[2.0, 5.0, 10.0, 30.0],
                        help="seconds after the start at which Ctrl-C is raised (one solve each)")
    args = parser.parse_args(argv)

    def cell(value, fmt="{:.1f}"):
        return "—" if value is None else fmt.format(value)

    lost = 0
    print("| units | scenario | Ctrl-C at s | first plan s | outcome | answer s | objective | gap "
          "| phases run |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            for scenario in args.scenarios:
                for at in args.at:
                    problem = _problem(size, args.seed, scenario, args.time_limit, Path(folder))
                    row = interrupt_once(problem, at)
                    lost += row["outcome"] == "LOST"
                    print(f"| {size} | {scenario} | {at:g} | {cell(row['first'])} | {row['outcome']} "
                          f"| {cell(row['answer'])} | {cell(row['objective'], '{:.2f}')} "
                          f"| {cell(row['gap'], '{:.3f}')} | {row['phases']} |", flush=True)
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
