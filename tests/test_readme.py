"""README.md examples run as written (CPMpy's test_examples pattern)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from scenarios.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INSTALL_AND_PLAN = "pip install . && cumkhoi plan"
INSTALL_AND_TEST = 'pip install ".[test]" && python -m pytest -n 2'


def blocks(language: str) -> list[str]:
    """Bodies of the README's fenced code blocks in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def cumkhoi(args: list[str]) -> None:
    """Run one ``cumkhoi`` command line in-process and require exit 0."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, f"cumkhoi {' '.join(args)}\n{result.output}"


def test_two_commands_are_in_the_readme() -> None:
    """The install-and-plan and install-and-test commands appear as their own bash blocks."""
    bash = [b.strip() for b in blocks("bash")]
    assert INSTALL_AND_PLAN in bash and INSTALL_AND_TEST in bash


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run ends with the README's test command, under ``set -euo pipefail``."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert script.strip().splitlines()[-1] == INSTALL_AND_TEST


def test_readme_lists_every_command_and_exit_code() -> None:
    """Every registered command has a row in the table; every exit code is documented."""
    for command in main.commands:
        assert f"`cumkhoi {command}" in README
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 70 |"):
        assert code in README


@pytest.mark.slow
def test_default_plan_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``cumkhoi plan`` with no argument solves the bundled default into the documented folder."""
    monkeypatch.chdir(tmp_path)
    cumkhoi(shlex.split(INSTALL_AND_PLAN.split("&&")[1])[1:] + ["--quiet"])
    out = tmp_path / "cumkhoi-out" / "34-tinh-6-cum-theo-vung"
    assert "`./cumkhoi-out/34-tinh-6-cum-theo-vung/`" in README
    lines = (out / "assignment.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 35


@pytest.mark.slow
def test_session_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line of the console session runs, in order, with exit code 0."""
    monkeypatch.chdir(tmp_path)
    (session,) = blocks("console")
    for line in session.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "cumkhoi"
        cumkhoi(args[1:])
    assert (tmp_path / "thu" / "so-sanh" / "comparison.json").is_file()


@pytest.mark.slow
def test_python_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python example runs as written."""
    monkeypatch.chdir(tmp_path)
    for code in blocks("python"):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
