"""run_scenario: verified plans, honest failures, manifest, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_definition import SCENARIO_TOML, write_case

from optimizer.errors import InfeasibleError
from optimizer.plan import Assignment
from scenarios import runner
from scenarios.definition import load_scenarios
from scenarios.manifest import stable_part
from scenarios.runner import PlanCheckFailed, run_scenario


def test_solves_the_six_unit_case_by_region(tmp_path: Path) -> None:
    """The optimum splits 01–03 (Bắc) from 04–06 (Nam); every check is ok."""
    result = run_scenario(load_scenarios(write_case(tmp_path))[0])
    assert result.ok and result.plan is not None
    parts = sorted(sorted(m) for m in result.plan.assignment.parts().values())
    assert parts == [["01", "02", "03"], ["04", "05", "06"]]
    assert set(result.checks.values()) == {"ok"}
    assert "dispersion" in result.metrics


def test_manifest_records_hashes_versions_and_overrides(tmp_path: Path) -> None:
    """Input SHA-256s match the files; CLI overrides appear in the recorded scenario."""
    path = write_case(tmp_path)
    result = run_scenario(
        load_scenarios(path)[0], overrides={"seed": 5, "time_limit": 4}
    )
    manifest = result.manifest
    units = tmp_path / "units.csv"
    assert (
        manifest["inputs"]["units"]["sha256"]
        == hashlib.sha256(units.read_bytes()).hexdigest()
    )
    assert set(manifest["inputs"]) == {"scenario", "units", "adjacency"}
    assert manifest["scenario"]["solver"] == {
        "time_limit": 4.0,
        "seed": 5,
        "workers": 1,
    }
    assert manifest["seed"] == 5
    assert {"cumkhoi", "ortools", "python"} <= set(manifest["versions"])
    assert "started_at" in manifest["run"]


def test_same_input_and_seed_give_the_same_result(tmp_path: Path) -> None:
    """Two runs agree on the assignment and on every non-volatile manifest field."""
    spec = load_scenarios(write_case(tmp_path))[0]
    a, b = run_scenario(spec), run_scenario(spec)
    assert a.plan is not None and b.plan is not None
    assert a.plan.assignment == b.plan.assignment
    assert stable_part(a.manifest) == stable_part(b.manifest)


def test_infeasible_scenario_returns_the_reason(tmp_path: Path) -> None:
    """Units both together and apart: no plan, an InfeasibleError kept in the result."""
    text = (
        SCENARIO_TOML + '[rules]\ntogether = [["01", "02"]]\napart = [["01", "02"]]\n'
    )
    result = run_scenario(load_scenarios(write_case(tmp_path, text))[0])
    assert result.plan is None and isinstance(result.error, InfeasibleError)
    assert result.manifest["inputs"]


def test_diagnoser_is_applied_to_infeasibility(tmp_path: Path) -> None:
    """A ``diagnose`` callable replaces the error (conflict and relaxations)."""
    text = SCENARIO_TOML.replace(
        "min_size = 3\nmax_size = 3", "min_size = 2\nmax_size = 2"
    )

    def diagnose(problem: object, err: InfeasibleError) -> InfeasibleError:
        return InfeasibleError(
            "diagnosed", conflict=["max_size"], relaxations=["max_size = 3"]
        )

    result = run_scenario(
        load_scenarios(write_case(tmp_path, text))[0], diagnose=diagnose
    )
    assert result.error is not None and str(result.error) == "diagnosed"


def test_a_plan_breaking_a_rule_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the solver returned a rule-breaking plan the runner raises instead of returning it."""
    real_solve = runner.solve

    def bad_solve(problem, **kwargs):  # type: ignore[no-untyped-def]
        plan = real_solve(problem, **kwargs)
        labels = dict.fromkeys(plan.assignment.labels, 0) | {"06": 1}
        return type(plan)(
            **{
                **{f: getattr(plan, f) for f in plan.__dataclass_fields__},
                "assignment": Assignment(labels=labels),
            }
        )

    monkeypatch.setattr(runner, "solve", bad_solve)
    with pytest.raises(PlanCheckFailed, match="size"):
        run_scenario(load_scenarios(write_case(tmp_path))[0])


@pytest.mark.slow
def test_stop_event_returns_the_best_verified_plan(tmp_path: Path) -> None:
    """Setting ``stop`` at the first solution of a hard case gives a checked, interrupted plan."""
    import threading

    from features.sample import write_sample
    from scenarios.cli_data import _write_starter

    units, adjacency = write_sample(tmp_path, 80, seed=3)
    path = _write_starter(tmp_path / "s.toml", units, adjacency, force=False)
    stop = threading.Event()
    result = run_scenario(
        load_scenarios(path)[0],
        overrides={"time_limit": 60},
        progress=lambda e: stop.set(),
        stop=stop,
    )
    assert result.plan is not None and result.plan.interrupted
    assert set(result.checks.values()) == {"ok"}
    assert result.plan.solve_seconds < 50
