"""The CLI: one exit code per row of the table, exact Error lines, help everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from test_definition import SCENARIO_TOML, write_case

from scenarios import cli_plan
from scenarios.cli import main


def run(*args: str | Path) -> Result:
    """Invoke ``cumkhoi`` in-process with ``args``."""
    return CliRunner().invoke(main, [str(a) for a in args])


def error_line(result: Result) -> str:
    """The ``Error:`` line click printed on stderr."""
    return next(
        line for line in result.stderr.splitlines() if line.startswith("Error:")
    )


def test_exit_0_writes_outputs(tmp_path: Path) -> None:
    """A solvable scenario exits 0 and writes the three plan files and the reports."""
    out = tmp_path / "out"
    result = run("plan", write_case(tmp_path), "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert {"assignment.csv", "clusters.csv", "plan.json"} <= {
        p.name for p in out.iterdir()
    }


def test_exit_1_scenario_typo(tmp_path: Path) -> None:
    """A typo exits 1 with the file, the dotted key and the suggestion; no traceback."""
    path = write_case(tmp_path, SCENARIO_TOML.replace("[balance]", "[balanse]"))
    result = run("--lang", "en", "plan", path, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert (
        error_line(result) == f"Error: {path.resolve()}: the scenario has 1 problem(s):"
    )
    assert "unknown key 'balanse' — did you mean 'balance'?" in result.stderr
    assert "Traceback" not in result.output


def test_exit_1_bad_unit_table(tmp_path: Path) -> None:
    """A unit table with a duplicate id exits 1 naming it, without a traceback."""
    path = write_case(tmp_path)
    units = tmp_path / "units.csv"
    units.write_text(
        units.read_text(encoding="utf-8").replace("02,Hai", "01,Hai"), "utf-8"
    )
    result = run("plan", path, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert error_line(result).startswith("Error: units.csv")
    assert "Traceback" not in result.output


def test_exit_2_usage_error(tmp_path: Path) -> None:
    """``--time-limit 0`` is refused by click at parse time with exit 2."""
    result = run("plan", write_case(tmp_path), "--time-limit", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--time-limit'" in result.stderr


def test_exit_3_infeasible(tmp_path: Path) -> None:
    """An impossible size rule exits 3 with the reason; plan.json says INFEASIBLE."""
    text = SCENARIO_TOML.replace(
        "min_size = 3\nmax_size = 3", "min_size = 2\nmax_size = 2"
    )
    out = tmp_path / "out"
    result = run("plan", write_case(tmp_path, text), "-o", out, "--quiet")
    assert result.exit_code == 3
    assert error_line(result) == (
        "Error: 2 cụm × tối đa 2 đơn vị = 4 < 6 đơn vị; hãy tăng max_size hoặc số cụm."
    )
    assert (
        json.loads((out / "plan.json").read_text(encoding="utf-8"))["status"]
        == "INFEASIBLE"
    )


def test_exit_70_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug exits 70 with one 'internal error' line; --debug shows the exception."""

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli_plan, "run_scenario", boom)
    path = write_case(tmp_path)
    result = run("--lang", "en", "plan", path, "-o", tmp_path / "out")
    assert result.exit_code == 70
    assert error_line(result) == (
        "Error: internal error: ZeroDivisionError: boom; rerun with --debug for the "
        "traceback and report it"
    )
    debug = run("--debug", "plan", path, "-o", tmp_path / "out2")
    assert isinstance(debug.exception, ZeroDivisionError)


def test_ctrl_c_inside_a_compiled_import_is_aborted_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a compiled extension initialises arrives as ImportError caused by
    KeyboardInterrupt: exit 1 with click's "Aborted!", no output folder, no exit 70."""

    def interrupted_import(*args: object, **kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ctrl_c:
            raise ImportError("initialization failed") from ctrl_c

    monkeypatch.setattr(cli_plan, "run_scenario", interrupted_import)
    path = write_case(tmp_path)
    result = run("--lang", "en", "plan", path, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "Aborted!" in result.output and "internal error" not in result.output
    assert not (tmp_path / "out").exists()


def test_ctrl_c_before_a_first_plan_says_so_in_the_planners_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while solving, before any plan: a line in the planner's language that nothing
    was written, then click's "Aborted!" and exit 1 (it said "Aborted!" alone)."""

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_plan, "run_scenario", ctrl_c)
    result = run("plan", write_case(tmp_path), "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "trước khi có phương án đầu tiên" in result.output and "Aborted!" in result.output
    assert not (tmp_path / "out").exists()


def test_exit_1_existing_output_needs_force(tmp_path: Path) -> None:
    """A second run into the same folder is refused (exit 1) until --force is given."""
    path, out = write_case(tmp_path), tmp_path / "out"
    assert run("plan", path, "-o", out, "-q").exit_code == 0
    second = run("--lang", "en", "plan", path, "-o", out, "-q")
    assert second.exit_code == 1
    assert error_line(second) == (
        f"Error: output folder {out} is not empty; use --force to overwrite "
        "or choose another folder with -o"
    )
    assert run("plan", path, "-o", out, "-q", "--force").exit_code == 0


def test_determinism_same_seed_same_assignment(tmp_path: Path) -> None:
    """Same input and seed (one worker) give a byte-identical assignment.csv."""
    path = write_case(tmp_path)
    for name in ("a", "b"):
        assert (
            run("plan", path, "-o", tmp_path / name, "-q", "--seed", "3").exit_code == 0
        )
    a = (tmp_path / "a" / "assignment.csv").read_bytes()
    assert a == (tmp_path / "b" / "assignment.csv").read_bytes()


def test_json_summary_on_stdout(tmp_path: Path) -> None:
    """``--json`` prints only JSON on stdout with the status and the files written."""
    result = run("plan", write_case(tmp_path), "-o", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "OPTIMAL" and summary["n_clusters"] == 2
    assert any(f.endswith("assignment.csv") for f in summary["files"])


def test_summary_table_in_english(tmp_path: Path) -> None:
    """Without --quiet the summary table is printed in the chosen language."""
    result = run("plan", write_case(tmp_path), "-o", tmp_path / "out", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Plan: Sáu đơn vị" in result.stdout and "Rule checks: all" in result.stdout


def test_several_scenarios_need_a_name(tmp_path: Path) -> None:
    """A file with several scenarios asks for --name and then solves the chosen one."""
    text = (
        '[data]\nunits = "units.csv"\n[[scenario]]\nname = "a"\n[scenario.clusters]\ncount = 2\n'
        '[[scenario]]\nname = "b"\n[scenario.clusters]\ncount = 3\n'
    )
    path = write_case(tmp_path, text)
    result = run("plan", path, "-o", tmp_path / "out")
    assert result.exit_code == 1 and "--name" in error_line(result)
    ok = run("plan", path, "--name", "b", "-o", tmp_path / "out", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["n_clusters"] == 3


def _commands() -> list[str]:
    return sorted(main.commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command: str) -> None:
    """``cumkhoi <command> -h`` prints usage and exits 0."""
    result = run(command, "-h")
    assert result.exit_code == 0
    assert (
        result.output.startswith(f"Usage: main {command}") or "Usage:" in result.output
    )


def test_group_help_lists_commands_and_exit_codes() -> None:
    """``cumkhoi -h`` lists the commands and the exit-code table; --version works."""
    result = run("-h")
    for command in ("plan", "compare", "validate", "init", "sample"):
        assert command in result.output
    assert "70" in result.output and "Mã thoát / exit codes" in result.output
    assert (
        run("--version").output.startswith("main, version")
        or "version" in run("--version").output
    )


def test_unknown_command_is_usage_error() -> None:
    """An unknown command exits 2."""
    assert run("planx").exit_code == 2


def test_error_mapping_covers_click_exceptions() -> None:
    """click's own exceptions keep their codes through the mapping."""
    from optimizer.errors import NoSolutionError
    from scenarios.cli import exit_code_for
    from scenarios.errors import ScenarioError

    assert exit_code_for(click.UsageError("x")) == 2
    assert exit_code_for(ScenarioError("x")) == 1
    assert exit_code_for(NoSolutionError("x")) == 3
    assert exit_code_for(KeyError("x")) == 70


def test_nan_time_limit_is_a_planner_error(tmp_path: Path) -> None:
    """``--time-limit nan`` slips past click's range check but is refused with exit 1."""
    result = run(
        "plan", write_case(tmp_path), "--time-limit", "nan", "-o", tmp_path / "o"
    )
    assert result.exit_code == 1
    assert (
        error_line(result)
        == "Error: 'solver.time_limit' phải là một số hữu hạn, nhận được nan"
    )


def test_language_option_after_the_command(tmp_path: Path) -> None:
    """``plan --lang en`` switches messages to English like ``--lang en plan``."""
    path = write_case(tmp_path, SCENARIO_TOML.replace("[balance]", "[balanse]"))
    result = run("plan", path, "--lang", "en", "-o", tmp_path / "o")
    assert result.exit_code == 1 and "unknown key 'balanse'" in result.stderr


def test_interrupted_plan_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan the solver marks interrupted (Ctrl-C) is written, flagged, and exits 0."""
    import dataclasses

    real = cli_plan.run_scenario

    def interrupted(spec, **kwargs):  # type: ignore[no-untyped-def]
        result = real(spec, **kwargs)
        plan = dataclasses.replace(result.plan, interrupted=True)
        return dataclasses.replace(result, plan=plan)

    monkeypatch.setattr(cli_plan, "run_scenario", interrupted)
    out = tmp_path / "out"
    result = run("plan", write_case(tmp_path), "-o", out, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert (
        "Stopped on request: this is the best verified plan found so far."
        in result.stdout
    )
    assert (
        json.loads((out / "plan.json").read_text(encoding="utf-8"))["interrupted"]
        is True
    )


def test_the_plan_line_says_the_status_in_words(tmp_path: Path) -> None:
    """The summary line gives the status in the planner's words, its code beside it
    ('Trạng thái Tối ưu (OPTIMAL)', as in report.xlsx), not the code alone."""
    result = run("plan", write_case(tmp_path), "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Trạng thái"))
    assert line.startswith(("Trạng thái Tối ưu (OPTIMAL)", "Trạng thái Khả thi (FEASIBLE)"))
