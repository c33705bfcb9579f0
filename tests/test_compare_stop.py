"""Ctrl-C during ``cumkhoi compare`` stops the whole comparison and keeps what was solved."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import scenarios.cli_compare as cli_compare
from scenarios.cli import main
from scenarios.runner import run_scenario
from tests.test_report_cli import MANY, UNITS

#: The two block scenarios of the compare tests, and a third.
THREE = MANY + """
[[scenario]]
name = "6 khối"
clusters = {{ count = 6, min_size = 4, max_size = 8 }}
"""


@pytest.fixture
def three_toml(tmp_path: Path) -> Path:
    """One file with three [[scenario]] tables."""
    path = tmp_path / "ba.toml"
    path.write_text(THREE.format(units=UNITS.as_posix()), encoding="utf-8")
    return path


def _compare(toml: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["compare", str(toml), "-o", str(out), *extra], catch_exceptions=False
    )
    return result.exit_code, result.output


def _statuses(out: Path) -> dict[str, str]:
    doc = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    return {s["name"]: s["status"] for s in doc["scenarios"]}


def test_interrupted_search_stops_the_rest(
    three_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C inside the 2nd search keeps its plan; the 3rd is listed as not solved, never run."""
    calls: list[str] = []

    def fake_run(spec, **kwargs):
        calls.append(spec.name)
        result = run_scenario(spec, **kwargs)
        if len(calls) == 2:  # as solve returns after Ctrl-C: best plan, marked interrupted
            plan = dataclasses.replace(result.plan, interrupted=True)
            result = dataclasses.replace(result, plan=plan)
        return result

    monkeypatch.setattr(cli_compare, "run_scenario", fake_run)
    out = tmp_path / "cmp"
    code, output = _compare(three_toml, out)
    assert code == 0, output
    assert calls == ["5 khối", "4 khối"]
    statuses = _statuses(out)
    assert statuses["6 khối"] == "NOT_SOLVED"
    assert statuses["5 khối"] in {"OPTIMAL", "FEASIBLE"}
    assert statuses["4 khối"] in {"OPTIMAL", "FEASIBLE"}
    assert "Ctrl-C" in output and "1" in output
    assert (out / "5-khoi" / "plan.json").is_file()
    assert (out / "4-khoi" / "plan.json").is_file()
    assert not (out / "6-khoi" / "plan.json").exists()
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert "Chưa giải" in html


def test_ctrl_c_outside_the_search_keeps_earlier_plans(
    three_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C while the 2nd scenario loads: the 1st plan is written, 2nd and 3rd not solved."""
    calls: list[str] = []

    def fake_run(spec, **kwargs):
        calls.append(spec.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_scenario(spec, **kwargs)

    monkeypatch.setattr(cli_compare, "run_scenario", fake_run)
    out = tmp_path / "cmp"
    code, output = _compare(three_toml, out, "--lang", "en")
    assert code == 0, output
    assert calls == ["5 khối", "4 khối"]
    assert _statuses(out) == {
        "5 khối": _statuses(out)["5 khối"],
        "4 khối": "NOT_SOLVED",
        "6 khối": "NOT_SOLVED",
    }
    assert "Stopped with Ctrl-C: 2 scenario(s) not solved" in output
    assert (out / "5-khoi" / "plan.json").is_file()
    doc = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    reasons = {s["name"]: s["error"] for s in doc["scenarios"]}
    assert reasons["4 khối"].startswith("Not solved: the run was stopped")
