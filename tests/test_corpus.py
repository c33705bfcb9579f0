"""The bad-input corpus (``tests/data/bad/corpus/cases.toml``) through the real CLI.

Every case runs in Vietnamese and in English through ``scenarios.cli.main``
(click's ``CliRunner``); a handful also run as a real ``cumkhoi`` subprocess.
Each must exit with its documented code (1 bad input, 3 real infeasibility, 2
bad command-line option), say where and what in the planner's language, never
show a traceback, never exit 70, and never leave files behind for bad input.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomllib
from click.testing import CliRunner

from scenarios.cli import main

CORPUS = Path(__file__).parent / "data" / "bad" / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))[
    "case"
]
BY_ID = {case["id"]: case for case in CASES}
WIDE = {
    "COLUMNS": "400"
}  # rich wraps table cells at 80 columns; keep fragments on one line
MB = 1024 * 1024


def _ok_scenario(tmp: Path) -> None:
    """``{tmp}/ok.toml``: a valid 2-cluster scenario over the corpus' good table."""
    (tmp / "ok.toml").write_text(
        f'name = "ok"\n[data]\nunits = "{(CORPUS / "units_ok.csv").as_posix()}"\n'
        "[clusters]\ncount = 2\n[solver]\ntime_limit = 5\n",
        encoding="utf-8",
    )


def _ok_scenario_and_full_output(tmp: Path) -> None:
    """The valid scenario plus an output folder that already holds a file."""
    _ok_scenario(tmp)
    (tmp / "out").mkdir()
    (tmp / "out" / "keep.txt").write_text("kết quả năm trước", encoding="utf-8")


def _huge_csv(tmp: Path) -> None:
    """A 3 MB unit table (valid rows), to be refused by a 2 MB limit."""
    row = "01,Hà Nội,thành phố,Bắc,21.03,105.85,8000\n".encode()
    body = b"unit_id,name,function,region,lat,lon,population\n"
    body += row * (3 * MB // len(row) + 1)
    (tmp / "huge.csv").write_bytes(body[: 3 * MB + 1000])


def _scenario_with(name: str, body: str) -> Callable[[Path], None]:
    def build(tmp: Path) -> None:
        (tmp / name).write_text(
            f'[data]\nunits = "{(CORPUS / "units_ok.csv").as_posix()}"\n'
            f"[clusters]\ncount = 2\n{body}",
            encoding="utf-8",
        )

    return build


def _long_name_scenario(tmp: Path) -> None:
    """A scenario whose unit table has a 300-character name (ENAMETOOLONG on stat)."""
    (tmp / "long_name.toml").write_text(
        f'[data]\nunits = "{"a" * 300}.csv"\n', encoding="utf-8"
    )


SETUPS: dict[str, Callable[[Path], None]] = {
    "long_name_scenario": _long_name_scenario,
    "ok_scenario": _ok_scenario,
    "ok_scenario_and_full_output": _ok_scenario_and_full_output,
    "huge_csv": _huge_csv,
    "huge_weight_scenario": _scenario_with(
        "huge_weight.toml", "[similarity]\npopulation = 1e308\n"
    ),
    "inf_tolerance_scenario": _scenario_with(
        "inf_tolerance.toml", "[balance]\npopulation = inf\n"
    ),
}


def _args(case: dict[str, Any], tmp: Path) -> list[str]:
    return [
        a.replace("{corpus}", str(CORPUS)).replace("{tmp}", str(tmp))
        for a in case["args"]
    ]


def _prepare(case: dict[str, Any], tmp: Path) -> list[str]:
    if "setup" in case:
        SETUPS[case["setup"]](tmp)
    return _args(case, tmp)


def _normal(text: str) -> str:
    """Output with the table frame removed and whitespace collapsed."""
    text = re.sub(r"[│┃┏┓┗┛┡┩└┘├┤┼━─┳┻╇┬┴┌┐]", " ", text)
    return re.sub(r"\s+", " ", text)


def _check_fragments(output: str, fragments: list[str]) -> None:
    flat = _normal(output)
    missing = [f for f in fragments if _normal(f).strip() not in flat]
    assert not missing, f"missing {missing} in:\n{output}"


@dataclass(frozen=True)
class Run:
    """What one CLI run of a case showed."""

    exit_code: int
    output: str
    exception: BaseException | None
    left_output_folder: bool


@functools.cache
def _run(case_id: str, lang: str) -> Run:
    """Run a case once per language (cached: the summary test reuses the runs)."""
    case = BY_ID[case_id]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        args = _prepare(case, tmp)
        env = {**WIDE, **case.get("env", {})}
        result = CliRunner().invoke(main, ["--lang", lang, *args], env=env)
        preexisting = case.get("setup") == "ok_scenario_and_full_output"
        left = (tmp / "out").exists() and not preexisting
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return Run(result.exit_code, result.output, exception, left)


def _params() -> list[Any]:
    params = []
    for case in CASES:
        marks = [pytest.mark.slow] if case.get("slow") else []
        for lang in ("vi", "en"):
            params.append(
                pytest.param(case["id"], lang, id=f"{case['id']}-{lang}", marks=marks)
            )
    return params


@pytest.mark.parametrize(("case_id", "lang"), _params())
def test_case_through_cli(case_id: str, lang: str) -> None:
    """The case exits with its code and says where and what, in the chosen language."""
    case = BY_ID[case_id]
    run = _run(case_id, lang)
    assert run.exit_code == case["exit"], run.output
    assert "Traceback" not in run.output
    assert run.exception is None, repr(run.exception)
    _check_fragments(run.output, case[lang])
    if case["exit"] == 1:
        assert not run.left_output_folder, "bad input must leave no output folder"


@pytest.mark.slow
def test_no_traceback_and_no_exit_70() -> None:
    """No case of the corpus, in either language, gives a traceback or exit code 70."""
    failures = []
    for case in CASES:
        for lang in ("vi", "en"):
            run = _run(case["id"], lang)
            if run.exit_code not in (1, 2, 3) or "Traceback" in run.output:
                failures.append((case["id"], lang, run.exit_code, run.output[-300:]))
            if run.exception is not None:
                failures.append((case["id"], lang, "exception", repr(run.exception)))
    assert not failures


def test_corpus_size_and_manifest_shape() -> None:
    """At least 60 distinct bad inputs, each with an id, a code and vi + en fragments."""
    assert len(BY_ID) == len(CASES), "case ids must be unique"
    assert sum(1 for c in CASES if c["exit"] in (1, 3)) >= 60
    for case in CASES:
        assert case["exit"] in (1, 2, 3), case["id"]
        assert case["what"] and case["args"], case["id"]
        assert case["vi"] and case["en"], case["id"]
        assert set(case) <= {
            "id",
            "what",
            "args",
            "exit",
            "en",
            "vi",
            "env",
            "setup",
            "slow",
        }, case["id"]
        assert case.get("setup") is None or case["setup"] in SETUPS, case["id"]


def test_every_corpus_file_is_used() -> None:
    """Every fixture file of the corpus is named by some case (or used by one)."""
    named = " ".join(" ".join(c["args"]) for c in CASES)
    scenario_text = " ".join(
        p.read_text("utf-8", errors="replace") for p in CORPUS.glob("scenarios/*.toml")
    )
    unused = []
    for path in sorted(CORPUS.rglob("*")):
        if path.is_dir() or path.suffix == ".py" or path.name == "cases.toml":
            continue
        rel = path.relative_to(CORPUS).as_posix()
        if rel not in named and path.name not in scenario_text:
            unused.append(rel)
    assert not unused


SUBPROCESS_CASES = [
    "table_mixed_encodings",  # the loader, in the default language
    "scenario_sizes_too_small",  # exit 3 with the diagnosis
]


@pytest.mark.slow
@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_case_in_real_process(case_id: str, tmp_path: Path) -> None:
    """A real ``cumkhoi`` process: same exit code and message, nothing on stderr but the error."""
    case = BY_ID[case_id]
    args = _prepare(case, tmp_path)
    env = {**os.environ, **WIDE, **case.get("env", {}), "PYTHONIOENCODING": "utf-8"}
    env.pop("CUMKHOI_LANG", None)
    proc = subprocess.run(  # noqa: PLW1510 - the exit code is what is tested
        [sys.executable, "-c", "from scenarios.cli import main; main()", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == case["exit"], output
    assert "Traceback" not in output
    _check_fragments(output, case["vi"])  # Vietnamese is the default language
    assert "Error:" in proc.stderr
