"""Run one method on one instance in a fresh process; write labels and facts.

Why a separate process per run: peak memory (``ru_maxrss``) is a high-water
mark of the whole process, so only a fresh process attributes it to one
method; and a method that overruns its cap can be killed without losing the
harness. The parent (:mod:`benchmarks.run`) reads the JSON this writes.

Usage (internal)::

    python benchmarks/worker.py INSTANCE_JSON METHOD SCENARIO OUT_JSON \
        --time-limit 60 --workers 2
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks import baselines, plain_lp
from benchmarks.instances import (
    POPULATION,
    TOLERANCE_F,
    Instance,
    load_problem_inputs,
)

METHODS = ("kmeans", "kmc", "plain_cpsat", "plain_lp", "cumkhoi")
#: Imported before the clock starts: import time is not the method's time.
PRELOAD = {
    "kmeans": ("sklearn.cluster",),
    "kmc": ("k_means_constrained",),
    "plain_cpsat": ("sklearn.cluster", "ortools.sat.python.cp_model"),
    "plain_lp": ("sklearn.cluster", "scipy.optimize", "scipy.sparse"),
    "cumkhoi": ("optimizer.solve", "features.engineer", "features.load"),
}


def _run_cumkhoi(
    inst: Instance, tolerance: float | None, time_limit_s: float, workers: int
) -> tuple[baselines.MethodResult, float]:
    """cumkhoi's ``solve`` on a Problem built from the instance's own table."""
    from optimizer.errors import InfeasibleError, NoSolutionError
    from optimizer.problem import Problem, Rules, SolverSettings
    from optimizer.solve import solve

    profiles, features = load_problem_inputs(inst.units_path)
    values, _pop = inst.arrays()
    if not np.allclose(np.asarray(features.values), values):
        raise RuntimeError("feature matrix differs from the baselines' matrix")
    rules = Rules(
        n_clusters=inst.n_clusters,
        min_size=inst.min_size,
        max_size=inst.max_size,
        balance={POPULATION: tolerance} if tolerance is not None else {},
    )
    settings = SolverSettings(
        time_limit_s=time_limit_s, seed=inst.seed, num_workers=workers
    )
    problem = Problem(
        name=f"bench {inst.key}",
        profiles=profiles,
        features=features,
        rules=rules,
        settings=settings,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        plan = solve(problem)
    except InfeasibleError as err:
        info = {"error": str(err), "cpu_s": time.process_time() - c0}
        return baselines.MethodResult(None, "infeasible", info=info), (
            time.perf_counter() - t0
        )
    except NoSolutionError as err:
        info = {"error": str(err), "cpu_s": time.process_time() - c0}
        return baselines.MethodResult(None, "no plan", info=info), (
            time.perf_counter() - t0
        )
    elapsed = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    labels = np.array(
        [plan.assignment.labels[u] for u in profiles.unit_ids], dtype=np.int64
    )
    info: dict[str, object] = {
        "objective": plan.objective,
        "bound": plan.bound,
        "cpu_s": cpu_s,
    }
    try:  # cumkhoi's own solver-free checker, when it exists, as a cross-check
        from optimizer.check import check_plan

        info["check_plan_violations"] = len(check_plan(plan, problem))
    except ImportError:
        pass
    result = baselines.MethodResult(labels, plan.status.value, gap=plan.gap, info=info)
    return result, elapsed


def run_one(
    inst: Instance, method: str, scenario: str, time_limit_s: float, workers: int
) -> tuple[baselines.MethodResult, float]:
    """Dispatch one (method, scenario); returns the result and its wall seconds."""
    tolerance = TOLERANCE_F if scenario == "F" else None
    for module in PRELOAD.get(method, ()):
        importlib.import_module(module)
    if method == "cumkhoi":
        return _run_cumkhoi(inst, tolerance, time_limit_s, workers)
    values, population = inst.arrays()
    t0, c0 = time.perf_counter(), time.process_time()
    if method == "kmeans":
        result = baselines.run_kmeans(values, inst.n_clusters, seed=inst.seed)
    elif method == "kmc":
        result = baselines.run_kmeans_constrained(
            values, inst.n_clusters, inst.min_size, inst.max_size, seed=inst.seed
        )
    elif method == "plain_cpsat":
        result = baselines.run_plain_cpsat(
            values,
            population,
            inst.n_clusters,
            inst.min_size,
            inst.max_size,
            tolerance=tolerance,
            seed=inst.seed,
            time_limit_s=time_limit_s,
            num_workers=workers,
        )
    elif method == "plain_lp":
        result = plain_lp.run_plain_lp(
            values,
            population,
            inst.n_clusters,
            inst.min_size,
            inst.max_size,
            tolerance=tolerance,
            seed=inst.seed,
            time_limit_s=time_limit_s,
        )
    else:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    elapsed = time.perf_counter() - t0
    result.info["cpu_s"] = time.process_time() - c0
    return result, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("method", choices=METHODS)
    parser.add_argument("scenario", choices=("S", "F"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    inst = Instance.from_json(json.loads(args.instance.read_text()))
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    payload: dict[str, object]
    try:
        result, elapsed = run_one(
            inst, args.method, args.scenario, args.time_limit, args.workers
        )
        payload = {
            "status": result.status,
            "time_s": elapsed,
            "gap": result.gap,
            "info": result.info,
            "labels": None if result.labels is None else result.labels.tolist(),
        }
    except Exception as err:  # noqa: BLE001 - the harness records any crash as a row
        payload = {
            "status": "error",
            "time_s": None,
            "gap": None,
            "info": {
                "error": f"{type(err).__name__}: {err}",
                "trace": traceback.format_exc(),
            },
            "labels": None,
        }
    payload["rss_before_mb"] = rss_before_kb / 1024.0
    args.out.write_text(json.dumps(payload, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
