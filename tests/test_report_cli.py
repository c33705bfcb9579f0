"""``cumkhoi compare`` end to end, and loading folders of already-solved plans."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from features.i18n import language
from scenarios.cli import main
from scenarios.compare import units_to_move
from scenarios.definition import BUNDLED_DIR, load_scenarios
from scenarios.errors import ScenarioError
from scenarios.outputs import write_plan_outputs
from scenarios.runner import run_scenario
from scenarios.solved import load_solved

BUNDLED = sorted(BUNDLED_DIR.glob("vn34-*.toml"))
UNITS = BUNDLED_DIR / "vn34" / "units.csv"

#: Two block scenarios on the 34 provinces (one function per block: the 6 cities
#: form one block).
MANY = """
[data]
units = "{units}"

[similarity]
population = 1.0

[rules]
one_function = true

[solver]
time_limit = 2

[[scenario]]
name = "5 khối"
clusters = {{ count = 5, min_size = 6, max_size = 8 }}

[[scenario]]
name = "4 khối"
clusters = {{ count = 4, min_size = 6, max_size = 11 }}
"""
#: Cannot hold: 2 clusters of at most 4 units for 34 units.
IMPOSSIBLE = """
name = "không thể"
[data]
units = "{units}"
[similarity]
population = 1.0
[clusters]
count = 2
min_size = 1
max_size = 4
"""


def _invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def many_toml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file with three [[scenario]] tables over the bundled 34 provinces."""
    path = tmp_path_factory.mktemp("many") / "nhieu.toml"
    path.write_text(MANY.format(units=UNITS.as_posix()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def solved_dir(tmp_path_factory: pytest.TempPathFactory, many_toml: Path) -> Path:
    """A ``cumkhoi plan`` output folder of the "5 khối" scenario."""
    out = tmp_path_factory.mktemp("solved") / "plan"
    result = run_scenario(load_scenarios(many_toml)[0])
    write_plan_outputs(result, out)
    return out


@pytest.mark.slow
def test_compare_one_file_with_several_scenarios(
    many_toml: Path, tmp_path: Path
) -> None:
    """Two [[scenario]] tables → two entries, their distance and the differing units."""
    out = tmp_path / "cmp"
    result = _invoke("compare", str(many_toml), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [s["name"] for s in doc["scenarios"]] == ["5 khối", "4 khối"]
    assert [(d["a"], d["b"]) for d in doc["distances"]] == [("5 khối", "4 khối")]
    assert doc["distances"][0]["units_to_move"] > 0
    assert doc["differing_units"]
    for name in ("comparison.html", "comparison.xlsx", "comparison.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "5-khoi" / "report.html").is_file()
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert 'href="5-khoi/report.html"' in html
    written = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert written["scenarios"][0]["metrics"] == doc["scenarios"][0]["metrics"]


@pytest.fixture(scope="module")
def infeasible_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``cumkhoi plan`` output folder of the impossible scenario (plan.json only)."""
    folder = tmp_path_factory.mktemp("solved")
    toml = folder / "impossible.toml"
    toml.write_text(IMPOSSIBLE.format(units=UNITS.as_posix()), encoding="utf-8")
    out = folder / "impossible"
    # diagnose=None: the minimal-conflict search is E's and slow; the reason suffices
    write_plan_outputs(run_scenario(load_scenarios(toml)[0], diagnose=None), out)
    return out


def test_compare_prints_summary_and_infeasible_note(
    solved_dir: Path, infeasible_dir: Path, tmp_path: Path
) -> None:
    """Two solved folders (nothing solved again): the table and the no-plan note."""
    result = _invoke(
        "--lang",
        "en",
        "compare",
        str(solved_dir),
        str(infeasible_dir),
        "-o",
        str(tmp_path / "o"),
    )
    assert result.exit_code == 0, result.output
    assert "Comparison of 2 scenarios" in result.output
    assert "INFEASIBLE" in result.output
    assert "1 scenario(s) have no plan" in result.output
    assert (tmp_path / "o" / "comparison.html").is_file()


def test_load_solved_round_trip(many_toml: Path, solved_dir: Path) -> None:
    """A plan folder loads back to the same grouping, status and metrics."""
    fresh = run_scenario(load_scenarios(many_toml)[0])
    loaded = load_solved(solved_dir)
    assert loaded.name == "5 khối"
    assert loaded.plan is not None and fresh.plan is not None
    assert loaded.plan.status == fresh.plan.status
    assert (
        units_to_move(
            dict(loaded.plan.assignment.labels), dict(fresh.plan.assignment.labels)
        )
        == 0
    )
    assert loaded.plan.cluster_labels == fresh.plan.cluster_labels
    assert loaded.metrics == pytest.approx(fresh.metrics)


@pytest.mark.slow
def test_compare_solved_folder_against_scenario(
    solved_dir: Path, many_toml: Path, tmp_path: Path
) -> None:
    """A solved folder and a scenario file compare; the folder is not solved again."""
    single = tmp_path / "bon.toml"
    text = many_toml.read_text(encoding="utf-8").split("[[scenario]]")
    single.write_text(text[0] + "[[scenario]]" + text[2], encoding="utf-8")
    out = tmp_path / "cmp"
    result = _invoke("compare", str(solved_dir), str(single), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [s["name"] for s in doc["scenarios"]] == ["5 khối", "4 khối"]
    assert not (out / "5-khoi").exists()  # loaded, not re-solved


def test_changed_data_is_refused(tmp_path: Path) -> None:
    """A plan whose unit table changed since solving is not compared."""
    units = tmp_path / "units.csv"
    shutil.copy(UNITS, units)
    toml = tmp_path / "s.toml"
    toml.write_text(
        '[data]\nunits = "units.csv"\n[clusters]\ncount = 5\n'
        "min_size = 6\nmax_size = 8\n[rules]\none_function = true\n"
        "[similarity]\npopulation = 1.0\n",
        encoding="utf-8",
    )
    write_plan_outputs(run_scenario(load_scenarios(toml)[0]), tmp_path / "plan")
    units.write_text(units.read_text(encoding="utf-8-sig") + "\n", encoding="utf-8")
    with language("en"), pytest.raises(ScenarioError, match="has changed since"):
        load_solved(tmp_path / "plan")


@pytest.mark.parametrize(
    ("make_args", "code", "message"),
    [
        (lambda d: [str(d)], 1, "plan.json"),  # a folder that is not a plan output
        (lambda d: [str(BUNDLED[0])], 1, "at least 2 scenarios"),
        (lambda d: [str(d / "missing.toml"), str(BUNDLED[0])], 2, "does not exist"),
    ],
)
def test_bad_input_exit_codes(
    tmp_path: Path, make_args, code: int, message: str
) -> None:
    """Bad input exits 1 (or 2 for usage) with a clear Error line and no traceback."""
    result = CliRunner().invoke(
        main,
        ["--lang", "en", "compare", *make_args(tmp_path), "-o", str(tmp_path / "o")],
    )
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_compare_three_bundled_scenarios(tmp_path: Path) -> None:
    """Done-when of issue 4: the three bundled examples give the three files and the JSON."""
    out = tmp_path / "so-sanh"
    result = _invoke(
        "compare", *map(str, BUNDLED), "-o", str(out), "--time-limit", "3", "--quiet"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert len(doc["scenarios"]) == 3
    ok = [s for s in doc["scenarios"] if s["status"] in ("OPTIMAL", "FEASIBLE")]
    assert len(ok) >= 2
    assert len(doc["distances"]) == len(ok) * (len(ok) - 1) // 2
    assert isinstance(doc["differing_units"], list) and doc["differing_units"]
    for name in ("comparison.html", "comparison.xlsx"):
        assert (out / name).stat().st_size > 10_000


def test_same_plan_twice_is_renamed_and_identical(
    solved_dir: Path, tmp_path: Path
) -> None:
    """A repeated name gets ' (2)'; a plan compared with itself differs nowhere."""
    result = _invoke(
        "compare", str(solved_dir), str(solved_dir), "-o", str(tmp_path / "o"), "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [s["name"] for s in doc["scenarios"]] == ["5 khối", "5 khối (2)"]
    assert doc["distances"][0]["units_to_move"] == 0
    assert doc["distances"][0]["variation_of_information"] == 0.0
    assert doc["differing_units"] == []


def test_compare_table_says_the_gap_in_the_planners_language(
    solved_dir: Path, infeasible_dir: Path, tmp_path: Path
) -> None:
    """The printed table reads like the plan's own line: the gap as 'Khoảng cách' with a
    decimal comma and a spaced percent sign (it printed 'Gap' and '6.0%'), the status in
    words with its code (it printed the code alone)."""
    solved = load_solved(solved_dir)
    assert solved.plan is not None
    result = _invoke("compare", str(solved_dir), str(infeasible_dir), "-o", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "Khoảng" in result.output  # the header wraps at the runner's 80 columns
    with language("vi"):
        from scenarios.cli_common import format_percent

        assert format_percent(solved.plan.gap) in result.output
    assert f"{solved.plan.gap:.1%}" not in result.output
    assert "Tối ưu" in result.output  # the status in words too, the code beside it
