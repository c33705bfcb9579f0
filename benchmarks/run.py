"""cumkhoi against the tools users would pick instead, on the same instances.

Why one command and one run: dispersion and wall time only compare when every
method sees the same seeded tables, the same feature matrix and the same
machine load. Each (instance, method, scenario) runs in a fresh subprocess
under a wall-time cap; peak memory is read from the kernel (``wait4``).
See ``benchmarks/README.md`` for the columns and the caveats.

Examples::

    nice -n 10 python benchmarks/run.py --sizes 700 3300 --time-limit 60 --repeats 3
    python benchmarks/run.py --quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from benchmarks.instances import TOLERANCE_F, Instance, prepare_instance
from benchmarks.measure import score
from benchmarks.report import print_table, render_markdown, summarise

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "benchmarks" / "worker.py"
RESULTS = ROOT / "benchmarks" / "results"
ALL_METHODS = ("kmeans", "kmc", "plain_cpsat", "plain_lp", "cumkhoi")
SCENARIOS = ("S", "F")
#: The dense plain model is not attempted beyond this many x[unit, cluster]
#: Booleans (the findings: 2 M took 3.7 GB without a plan; 25 M exhausted 7.9 GB).
MAX_PLAIN_BOOLS = 5_000_000
#: The plain model's LP relaxation is skipped beyond this many columns: the
#: findings measured 12 s at 330 000 (3 300 × 100) and > 120 s at 2 M
#: (10 000 × 200), so a 60 s run at 2 M would only report "no bound".
MAX_LP_COLUMNS = 1_000_000


def _rss_mb(pid: int) -> float:
    """Current resident memory of ``pid`` in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def run_capped(
    cmd: Sequence[str], cap_s: float, *, log_path: Path, mem_cap_mb: float = math.inf
) -> tuple[str, float, float]:
    """Run ``cmd`` in its own process group; kill it at ``cap_s`` s or ``mem_cap_mb``.

    Returns ``(outcome, wall_s, peak_mb)`` with outcome ``"done"``, ``"time"`` or
    ``"memory"``. ``wait4`` gives the resource usage of exactly this child, also
    when it had to be killed, so the memory a runaway model reached is still
    recorded. The memory cap protects a shared machine from the dense model.
    """
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(cmd), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    t0 = time.perf_counter()
    outcome = "done"
    while True:
        pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > cap_s:
            outcome = "time"
        elif mem_cap_mb < math.inf and _rss_mb(proc.pid) > mem_cap_mb:
            outcome = "memory"
        if outcome != "done":
            os.killpg(proc.pid, signal.SIGKILL)
            _pid, _status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = 0  # reaped above; keep Popen from waiting again
    return outcome, time.perf_counter() - t0, usage.ru_maxrss / 1024.0


def _row(
    inst: Instance,
    method: str,
    scenario: str,
    payload: dict[str, object] | None,
    killed: str,
    wall_s: float,
    peak_mb: float,
) -> dict[str, object]:
    """One results row: facts from the worker plus solver-free scores."""
    row: dict[str, object] = {
        "n_units": inst.n_units,
        "n_clusters": inst.n_clusters,
        "seed": inst.seed,
        "scenario": scenario,
        "method": method,
        "status": "",
        "time_s": math.nan,
        "cpu_s": math.nan,
        "wall_s": round(wall_s, 3),
        "peak_mb": round(peak_mb, 1),
        "dispersion": math.nan,
        "size_excess": math.nan,
        "pop_dev": math.nan,
        "pop_excess": math.nan,
        "rules_ok": False,
        "gap": math.nan,
        "note": "",
    }
    if killed:
        row["status"] = killed
        return row
    if payload is None:
        row["status"] = "error"
        row["note"] = "worker wrote no result"
        return row
    row["status"] = str(payload["status"])
    info = payload.get("info") or {}
    assert isinstance(info, dict)
    row["note"] = str(info.get("error", ""))[:200]
    if "check_plan_violations" in info:
        row["note"] = f"check_plan: {info['check_plan_violations']} violation(s)"
    if "lp_bound" in info:  # a bound of the plain model, not a plan: no rules to score
        row["dispersion"] = float(info["lp_bound"])  # type: ignore[arg-type]
        row["note"] = f"fractional units: {info.get('fractional_units')}"
    if payload.get("time_s") is not None:
        row["time_s"] = round(float(payload["time_s"]), 3)  # type: ignore[arg-type]
    if info.get("cpu_s") is not None:
        row["cpu_s"] = round(float(info["cpu_s"]), 3)  # type: ignore[arg-type]
    if payload.get("gap") is not None:
        row["gap"] = float(payload["gap"])  # type: ignore[arg-type]
    labels = payload.get("labels")
    if labels is None:
        return row
    values, population = inst.arrays()
    tolerance = TOLERANCE_F if scenario == "F" else math.inf
    s = score(
        values,
        np.asarray(labels, dtype=np.int64),
        n_clusters=inst.n_clusters,
        min_size=inst.min_size,
        max_size=inst.max_size,
        population=population,
        tolerance=tolerance,
    )
    row.update(
        dispersion=s.dispersion,
        size_excess=s.size_excess,
        pop_dev=s.pop_dev,
        pop_excess=s.pop_excess if scenario == "F" else math.nan,
        rules_ok=s.size_excess == 0 and (scenario == "S" or s.pop_excess <= 1e-12),
    )
    return row


def _jobs(methods: Iterable[str]) -> list[tuple[str, str]]:
    """(method, scenario) pairs; KMeans is rule-blind so it runs once (as S)."""
    jobs: list[tuple[str, str]] = []
    for method in methods:
        for scenario in SCENARIOS:
            if method == "kmeans" and scenario == "F":
                continue  # same labels as S; scored under F below
            if method == "kmc" and scenario == "F":
                continue  # cannot express balance: recorded as n/a
            jobs.append((method, scenario))
    return jobs


def run_instance(
    inst: Instance,
    *,
    time_limit_s: float,
    cap_s: float,
    workers: int,
    methods: Sequence[str],
    work_dir: Path,
    mem_cap_mb: float = math.inf,
    max_plain_bools: int = MAX_PLAIN_BOOLS,
    max_lp_columns: int = MAX_LP_COLUMNS,
    progress: bool = True,
) -> list[dict[str, object]]:
    """Every method on one prepared instance, each in a capped subprocess."""
    rows: list[dict[str, object]] = []
    inst_json = work_dir / f"{inst.key}.json"
    inst_json.write_text(json.dumps(inst.to_json()))
    for method, scenario in _jobs(methods):
        n_bools = inst.n_units * inst.n_clusters
        if method == "plain_cpsat" and n_bools > max_plain_bools:
            rows.append(
                _na_row(
                    inst, method, scenario, "skipped", f"{n_bools:,} Booleans > limit"
                )
            )
            continue
        if method == "plain_lp" and n_bools > max_lp_columns:
            note = f"{n_bools:,} LP columns > limit {max_lp_columns:,}"
            rows.append(_na_row(inst, method, scenario, "n/a", note))
            continue
        out = work_dir / f"{inst.key}_{method}_{scenario}.json"
        out.unlink(missing_ok=True)
        cmd = [
            *(sys.executable, str(WORKER), str(inst_json), method, scenario, str(out)),
            *("--time-limit", str(time_limit_s), "--workers", str(workers)),
        ]
        load1 = os.getloadavg()[0]
        outcome, wall_s, peak_mb = run_capped(
            cmd, cap_s, log_path=out.with_suffix(".log"), mem_cap_mb=mem_cap_mb
        )
        killed = {
            "done": "",
            "time": f"> cap {cap_s:g} s",
            "memory": f"> mem {mem_cap_mb / 1024:g} GB",
        }[outcome]
        payload = json.loads(out.read_text()) if not killed and out.exists() else None
        facts = (killed, wall_s, peak_mb)
        rows.append(_row(inst, method, scenario, payload, *facts) | {"load1": load1})
        if method == "kmeans":
            rows.append(_row(inst, method, "F", payload, *facts) | {"load1": load1})
        if progress:
            r = rows[-1]
            print(
                f"n={inst.n_units} seed={inst.seed} {method:<11} {scenario}: "
                f"{r['status']} t={r['time_s']} disp={r['dispersion']:.4f} "
                f"mem={r['peak_mb']} MB",
                file=sys.stderr,
                flush=True,
            )
    if "kmc" in methods:
        rows.append(
            _na_row(inst, "kmc", "F", "n/a", "cannot express population balance")
        )
    return rows


def run_benchmark(
    sizes: Sequence[int],
    *,
    repeats: int,
    work_dir: Path,
    n_clusters: int | None = None,
    checkpoint: Path | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Every method on every (size, seed) instance; one row per run and scenario.

    ``options`` go to :func:`run_instance`. With ``checkpoint``, the rows so far
    are rewritten there after each instance, so a long run that dies (or is
    stopped) still leaves its measurements behind.
    """
    rows: list[dict[str, object]] = []
    for n_units in sizes:
        for seed in range(repeats):
            inst = prepare_instance(n_units, seed, work_dir, n_clusters=n_clusters)
            rows += run_instance(inst, work_dir=work_dir, **options)
            if checkpoint is not None:
                pd.DataFrame(rows).to_csv(checkpoint, index=False)
    return pd.DataFrame(rows)


def _na_row(
    inst: Instance, method: str, scenario: str, status: str, note: str
) -> dict[str, object]:
    """A row for a run that was not attempted (rule not expressible, too big)."""
    return {
        "n_units": inst.n_units,
        "n_clusters": inst.n_clusters,
        "seed": inst.seed,
        "scenario": scenario,
        "method": method,
        "status": status,
        "rules_ok": False,
        "note": note,
    }


def _commit() -> str:
    """Short HEAD hash, with '+dirty' when the measured packages have local edits.

    ``CUMKHOI_BENCH_COMMIT`` overrides it for runs from an exported snapshot
    (``git archive``), which has no repository to ask.
    """
    if os.environ.get("CUMKHOI_BENCH_COMMIT"):
        return os.environ["CUMKHOI_BENCH_COMMIT"]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "nogit"
    dirty = git("status", "--porcelain", "--", "features", "optimizer", "benchmarks",
                ":(exclude)benchmarks/results")
    return head + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[700, 3300])
    parser.add_argument("--repeats", type=int, default=3, help="seeds 0..R-1")
    parser.add_argument("--time-limit", type=float, default=60.0, help="solver seconds")
    parser.add_argument(
        "--cap",
        type=float,
        default=None,
        help="wall-time cap per run (default 2 x time limit + 60 s)",
    )
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    parser.add_argument(
        "--methods", nargs="+", choices=ALL_METHODS, default=list(ALL_METHODS)
    )
    parser.add_argument("--clusters", type=int, default=None, help="override K")
    parser.add_argument(
        "--mem-cap-gb",
        type=float,
        default=12.0,
        help="kill a run whose resident memory exceeds this (protects the machine)",
    )
    parser.add_argument(
        "--max-plain-bools",
        type=int,
        default=MAX_PLAIN_BOOLS,
        help="skip the plain CP-SAT model above this many x[unit, cluster] Booleans",
    )
    parser.add_argument(
        "--max-lp-columns",
        type=int,
        default=MAX_LP_COLUMNS,
        help="skip the plain model's LP relaxation above this many columns",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: 200 units, 1 seed, 5 s limit, 60 s cap",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--tag", default="", help="suffix for the result file names")
    args = parser.parse_args(argv)

    if args.quick:
        if args.sizes == parser.get_default("sizes"):
            args.sizes = [200]
        args.repeats = 1
        if args.time_limit == parser.get_default("time_limit"):
            args.time_limit = 5.0
        args.cap = args.cap or 60.0
    cap = args.cap or 2 * args.time_limit + 60.0

    load_before = os.getloadavg()[0]
    commit = _commit()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%MZ")
    stem = f"{stamp}_{commit}" + (f"_{args.tag}" if args.tag else "")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cumkhoi-bench-") as tmp:
        rows = run_benchmark(
            args.sizes,
            repeats=args.repeats,
            work_dir=Path(tmp),
            n_clusters=args.clusters,
            checkpoint=args.out / f"{stem}_runs.csv",
            time_limit_s=args.time_limit,
            cap_s=cap,
            workers=args.workers,
            methods=args.methods,
            mem_cap_mb=args.mem_cap_gb * 1024,
            max_plain_bools=args.max_plain_bools,
            max_lp_columns=args.max_lp_columns,
        )
    summary = summarise(rows)
    rows.to_csv(args.out / f"{stem}_runs.csv", index=False)
    summary.to_csv(args.out / f"{stem}_summary.csv", index=False)
    header = (
        f"commit {commit} · {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · "
        f"sizes {args.sizes} · seeds {args.repeats} · time limit {args.time_limit:g} s · "
        f"cap {cap:g} s / {args.mem_cap_gb:g} GB · CP-SAT workers {args.workers} · "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )
    (args.out / f"{stem}.md").write_text(render_markdown(summary, header))
    print_table(summary, header)
    print(f"saved {args.out / stem}.md / _summary.csv / _runs.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
