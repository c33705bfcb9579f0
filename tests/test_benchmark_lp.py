"""The plain model's LP bound, the 100-unit size and the new summary columns."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``benchmarks`` is a directory of scripts, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.baselines import COST_SCALE, plain_model_data, run_plain_cpsat
from benchmarks.instances import instance_from_arrays
from benchmarks.measure import default_n_clusters, size_bounds
from benchmarks.plain_lp import lp_relaxation, run_plain_lp
from benchmarks.report import render_markdown, summarise
from benchmarks.run import run_instance

#: Four units on a line; KMeans (K = 2) puts its centres at 0.5 and 10.5.
LINE4 = np.array([[0.0], [1.0], [10.0], [11.0]])
#: Six units on a line, two obvious clusters of three (as in the smoke tests).
LINE6 = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])


def test_lp_relaxation_splits_units_when_the_integer_model_cannot_balance() -> None:
    """Toy with no integer plan: the LP halves two units and costs exactly 1.

    Units 0, 1 cost 1 in cluster 1, units 2, 3 cost 1 in cluster 0; sizes 2,
    population (1, 1, 1, 3) with both totals exactly 3. No 0/1 plan exists (the
    cluster holding unit 3 would total ≥ 4). With a = share in cluster 1:
    Σa = 2 and a0+a1+a2+3·a3 = 3 force a3 = 1/2; cost = 4 − 2(a2 + a3) is
    least at a2 = 1, i.e. 1.
    """
    cost = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    result = lp_relaxation(
        cost,
        min_size=2,
        max_size=2,
        population=np.array([1, 1, 1, 3]),
        pop_bounds=(3, 3),
    )
    assert result.status == "LP bound"
    assert result.objective == pytest.approx(1.0)
    assert result.x is not None
    assert result.x[3] == pytest.approx([0.5, 0.5])
    assert result.x[2] == pytest.approx([0.0, 1.0])


def test_lp_relaxation_reports_infeasible_sizes() -> None:
    """Four units cannot fill two clusters of at least three: 'infeasible', no value."""
    result = lp_relaxation(np.zeros((4, 2)), min_size=3, max_size=3)
    assert result.status == "infeasible" and result.objective is None


def test_plain_lp_without_a_solution_says_why() -> None:
    """Sizes [3, 3] for four units: no bound, status and reason recorded."""
    result = run_plain_lp(
        LINE4, np.ones(4), 2, 3, 3, tolerance=None, seed=0, time_limit_s=5
    )
    assert result.status == "infeasible" and "lp_bound" not in result.info
    assert "HiGHS: infeasible" in str(result.info["error"])


def test_plain_lp_bound_is_normalised_by_total_ss() -> None:
    """LINE4 in S: every unit 0.5 from its centre, 4 × 0.25 / total SS 101."""
    result = run_plain_lp(
        LINE4, np.ones(4), 2, 2, 2, tolerance=None, seed=0, time_limit_s=5
    )
    assert result.labels is None and result.status == "LP bound"
    assert result.info["lp_objective"] == pytest.approx(4 * 0.25 * COST_SCALE)
    assert result.info["lp_bound"] == pytest.approx(1.0 / 101.0)
    assert result.info["fractional_units"] == 0


def test_plain_lp_bounds_the_plain_models_optimum() -> None:
    """Balanced LINE6: the LP value is at most CP-SAT's proven optimum of the same model."""
    pop = np.array([1.0, 1, 1, 1, 1, 7])
    lp = run_plain_lp(LINE6, pop, 2, 2, 4, tolerance=0.35, seed=0, time_limit_s=5)
    ip = run_plain_cpsat(
        LINE6, pop, 2, 2, 4, tolerance=0.35, seed=0, time_limit_s=5, num_workers=1
    )
    assert ip.status == "OPTIMAL"
    assert float(lp.info["lp_objective"]) <= float(ip.info["objective"]) + 1e-6
    # the big unit pulls a small one across in the integer plan; the LP moves a fraction
    assert float(lp.info["lp_objective"]) < float(ip.info["objective"]) - 1.0
    assert int(lp.info["fractional_units"]) >= 1  # type: ignore[call-overload]


def test_plain_model_data_rounds_population_bounds_inwards() -> None:
    """Total 12 over K = 2 with ±35 %: [ceil 3.9, floor 8.1] = [4, 8]."""
    pop = np.array([1.0, 1, 1, 1, 1, 7])
    data = plain_model_data(LINE6, pop, 2, tolerance=0.35, seed=0)
    assert data.pop_bounds == (4, 8)
    assert plain_model_data(LINE6, pop, 2, tolerance=None, seed=0).pop_bounds is None
    assert data.cost.dtype == np.int64 and data.cost.shape == (6, 2)


def test_small_sizes_keep_clusters_near_twelve_units() -> None:
    """K = 8 at 63 (the findings' instance) and at 100 units (sizes 11–14)."""
    assert default_n_clusters(63) == 8
    assert default_n_clusters(100) == 8
    assert size_bounds(100, 8) == (11, 14)


def test_lp_skipped_beyond_column_limit(tmp_path: Path) -> None:
    """Too many LP columns: an n/a row with the reason, no subprocess run."""
    inst = instance_from_arrays(
        LINE6, np.ones(6), tmp_path, n_clusters=2, min_size=3, max_size=3
    )
    rows = run_instance(
        inst, time_limit_s=1, cap_s=1, workers=1, methods=["plain_lp"],
        work_dir=tmp_path, max_lp_columns=11, progress=False,
    )  # fmt: skip
    assert [r["status"] for r in rows] == ["n/a", "n/a"]
    assert "12 LP columns > limit 11" in str(rows[0]["note"])


def test_lp_runs_in_a_worker_on_a_hand_made_instance(tmp_path: Path) -> None:
    """Through the worker: LINE4's bound is the dispersion, rules unscored, CPU time kept."""
    inst = instance_from_arrays(
        LINE4, np.ones(4), tmp_path, n_clusters=2, min_size=2, max_size=2
    )
    rows = run_instance(
        inst, time_limit_s=5, cap_s=60, workers=1, methods=["plain_lp"],
        work_dir=tmp_path, progress=False,
    )  # fmt: skip
    assert [(r["scenario"], r["status"]) for r in rows] == [
        ("S", "LP bound"),
        ("F", "LP bound"),
    ]
    assert rows[0]["dispersion"] == pytest.approx(1.0 / 101.0)
    assert math.isnan(float(rows[0]["size_excess"]))  # type: ignore[arg-type]
    assert float(rows[0]["cpu_s"]) > 0  # type: ignore[arg-type]  # KMeans + LP did work


def _row(
    method: str, scenario: str, dispersion: float, **over: object
) -> dict[str, object]:
    base: dict[str, object] = {
        "n_units": 100, "n_clusters": 8, "seed": 0, "scenario": scenario,
        "method": method, "status": "ok", "time_s": 1.0, "wall_s": 1.0,
        "peak_mb": 100.0, "dispersion": dispersion, "size_excess": 0,
        "pop_dev": 0.05, "pop_excess": 0.0, "rules_ok": True, "gap": math.nan,
        "note": "",
    }  # fmt: skip
    base.update(over)
    return base


def _summary() -> pd.DataFrame:
    rows = pd.DataFrame(
        [
            _row("kmeans", "F", 0.10, rules_ok=False),
            _row("plain_cpsat", "F", 0.40, status="FEASIBLE", gap=0.3),
            _row("plain_cpsat", "F", 0.60, status="OPTIMAL", gap=0.0, seed=1),
            _row("plain_lp", "F", 0.35, status="LP bound", size_excess=math.nan,
                 pop_dev=math.nan, pop_excess=math.nan, rules_ok=False),
            _row("cumkhoi", "F", 0.25, status="OPTIMAL", gap=0.0),
            _row("cumkhoi", "F", 0.35, status="OPTIMAL", gap=0.0, seed=1),
            _row("kmc", "F", math.nan, status="n/a", rules_ok=False,
                 note="cannot express population balance"),
        ]
    )  # fmt: skip
    return summarise(rows).set_index("method")


def test_summary_ratio_to_plain_proven_count_and_lp_rules() -> None:
    """cumkhoi 0.30 vs plain 0.50 is 0.60×; LP 0.35 is 0.70×; proofs counted per seed."""
    summary = _summary()
    assert list(summary.index) == [
        "kmeans",
        "kmc",
        "plain_cpsat",
        "plain_lp",
        "cumkhoi",
    ]
    assert summary.loc["cumkhoi", "disp_vs_plain"] == pytest.approx(0.30 / 0.50)
    assert summary.loc["plain_lp", "disp_vs_plain"] == pytest.approx(0.35 / 0.50)
    assert summary.loc["cumkhoi", "proven"] == "2/2"
    assert summary.loc["plain_cpsat", "proven"] == "1/2"
    assert summary.loc["kmeans", "proven"] == "—"
    assert summary.loc["plain_lp", "rules_ok"] == "—"
    assert math.isnan(summary.loc["plain_lp", "disp_vs_kmeans"])  # a bound, not a plan
    assert summary.loc["cumkhoi", "disp_vs_kmeans"] == pytest.approx(3.0)
    assert summary.loc["plain_lp", "status"] == "LP bound"
    assert summary.loc["kmc", "rules_ok"] == "n/a"


def test_markdown_shows_new_columns_and_why_a_row_is_empty() -> None:
    """The table has proven / disp_vs_plain, LP rules as '—', and the n/a reason below."""
    text = render_markdown(_summary().reset_index(), "header")
    header = next(line for line in text.splitlines() if line.startswith("| n_units"))
    assert "| proven |" in header and "| disp_vs_plain |" in header
    lp_line = next(line for line in text.splitlines() if "LP bound |" in line)
    assert "| 0.350 | " in lp_line and "| 0.70× |" in lp_line
    assert (
        "100 units, F, k-means-constrained: cannot express population balance" in text
    )
