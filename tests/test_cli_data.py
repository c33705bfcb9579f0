"""validate, init and sample through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_definition import UNITS_CSV, write_case

from optimizer.budget import suggested_time_limit
from scenarios.cli import main
from scenarios.definition import DEFAULT_SCENARIO, build_problem, load_scenarios
from scenarios.starter import balance_tolerance

VN34 = DEFAULT_SCENARIO.parent / "vn34"


def run(*args: str | Path) -> Result:
    """Invoke ``cumkhoi`` in-process with ``args``."""
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    """A table with three defects shows all three in the table and exits 1."""
    bad = (
        UNITS_CSV.replace("02,Hai", "01,Hai")
        .replace(",95,", ",-95,")
        .replace("Sáu", "")
    )
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    result = run("--lang", "en", "validate", path)
    assert result.exit_code == 1
    assert "Error: bad.csv: 3 problem(s) found; nothing was computed." in result.stderr
    for row in ("row 2,", "row 6,", "row 7,"):
        assert row in result.stdout
    assert "Traceback" not in result.output


def test_validate_summary_of_bundled_data() -> None:
    """The bundled 34 provinces validate with one graph component."""
    result = run(
        "--lang",
        "en",
        "validate",
        VN34 / "units.csv",
        "--adjacency",
        VN34 / "adjacency.csv",
    )
    assert result.exit_code == 0, result.output
    assert "valid — 34 units" in result.stdout
    assert "1 connected component(s)" in result.stdout


def test_validate_json(tmp_path: Path) -> None:
    """``validate --json`` gives counts a script can use."""
    write_case(tmp_path)
    result = run(
        "validate",
        tmp_path / "units.csv",
        "--adjacency",
        tmp_path / "adjacency.csv",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_units"] == 6
    assert summary["regions"] == {"Bắc": 3, "Nam": 3}
    assert summary["adjacency"] == {"pairs": 5, "components": 1, "isolated": 0}
    assert summary["missing_cells"] == {"area": 1}


def test_validate_bad_adjacency(tmp_path: Path) -> None:
    """An adjacency pair naming an unknown unit is listed and exits 1."""
    write_case(tmp_path)
    (tmp_path / "adjacency.csv").write_text("a,b\n01,02\n02,99\n", encoding="utf-8")
    result = run(
        "validate", tmp_path / "units.csv", "--adjacency", tmp_path / "adjacency.csv"
    )
    assert result.exit_code == 1
    assert "99" in result.stdout


def test_init_writes_a_solvable_starter(tmp_path: Path) -> None:
    """``init`` fits count/sizes/balance to the table; the file builds a Problem."""
    out = tmp_path / "kb" / "scenario.toml"
    result = run(
        "init", VN34 / "units.csv", "-o", out, "--adjacency", VN34 / "adjacency.csv"
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "# Kịch bản khởi đầu" in text and "count = 6" in text
    assert "population = 0.15" in text
    assert "time_limit = 30" in text and "khoảng cách tối ưu" not in text  # 34 units
    (spec,) = load_scenarios(out)
    problem = build_problem(spec)
    assert problem.rules.n_clusters == 6 and (
        problem.rules.min_size,
        problem.rules.max_size,
    ) == (4, 7)
    assert set(problem.features.groups) == {
        "function",
        "region",
        "location",
        "population",
    }
    again = run("init", VN34 / "units.csv", "-o", out)
    assert again.exit_code == 1 and "--force" in again.stderr


def test_init_time_limit_grows_with_the_table() -> None:
    """30 s up to 2 000 units, then longer steps: at 10 000 units 30 s gave a gap of
    0.90–0.98 and a plan 13 % costlier than at 120 s (``suggested_time_limit``)."""
    assert [suggested_time_limit(n) for n in (1, 2_000, 2_001, 5_000, 10_000, 15_000,
                                              20_000, 30_001, 10**6)] == [
        30, 30, 60, 60, 120, 120, 300, 600, 600]


def test_init_says_why_a_large_table_gets_longer(tmp_path: Path) -> None:
    """The starter of a 3 000-unit table asks for 60 s and says why, in the planner's language."""
    out = tmp_path / "s"
    assert run("sample", "--units", "3000", "--seed", "1", "-o", out).exit_code == 0
    text = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "time_limit = 60" in text
    assert "# 3000 đơn vị: 60 giây để phương án và khoảng cách tối ưu có ý nghĩa" in text
    assert load_scenarios(out / "scenario.toml")[0].solver.time_limit == 60


def test_init_widens_balance_for_a_dominant_unit() -> None:
    """Tolerance grows until the biggest unit plus the smallest companions fits the band.

    Eleven units of 10 and one of 100, 3 clusters (mean 70), min_size 3: the big
    unit's lightest cluster is 100 + 10 + 10 = 120 = 70 · 1.714, so ±(71.4 % + 5 %)
    rounded up to 5 % steps gives ±80 %. Without a dominant unit it stays ±15 %.
    """
    assert balance_tolerance([10.0] * 11 + [100.0], 3, 3) == 0.8
    assert balance_tolerance([10.0] * 12, 3, 3) == 0.15


def test_sample_writes_table_adjacency_and_scenario(tmp_path: Path) -> None:
    """``sample`` writes a table that validates and a starter scenario that builds."""
    out = tmp_path / "s"
    result = run("sample", "--units", "60", "--seed", "1", "-o", out)
    assert result.exit_code == 0, result.output
    assert (
        run(
            "validate", out / "units.csv", "--adjacency", out / "adjacency.csv"
        ).exit_code
        == 0
    )
    problem = build_problem(load_scenarios(out / "scenario.toml")[0])
    assert problem.profiles.n_units == 60 and problem.graph is not None
    assert run("sample", "--units", "60", "-o", out).exit_code == 1
    assert run("sample", "--units", "60", "-o", out, "--force").exit_code == 0


def test_sample_rejects_bad_size() -> None:
    """``--units 1`` is a usage error (exit 2)."""
    assert run("sample", "--units", "1").exit_code == 2


def test_validate_json_lists_problems(tmp_path: Path) -> None:
    """``validate --json`` on a bad table prints only JSON (one entry per problem), exit 1."""
    path = tmp_path / "bad.csv"
    path.write_text(UNITS_CSV.replace("02,Hai", "01,Hai"), encoding="utf-8")
    result = run("validate", path, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["n_problems"] == 1 and doc["problems"][0]["column"] == "unit_id"


BAD = Path(__file__).parent / "data" / "bad"
BAD_TABLES = sorted(
    p for p in BAD.glob("*") if p.is_file() and not p.name.startswith("adjacency")
)


@pytest.mark.parametrize("path", BAD_TABLES, ids=lambda p: p.name)
def test_no_bad_table_gives_a_traceback(path: Path) -> None:
    """Every defective table in tests/data/bad exits 1 with an Error line, never a traceback."""
    result = run("validate", path)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert any(line.startswith("Error: ") for line in result.stderr.splitlines())


def test_soft_adjacency_defect_is_a_plain_warning(tmp_path: Path) -> None:
    """A repeated pair is merged and shown as one 'Warning:' line, not a Python warning."""
    write_case(tmp_path)
    adjacency = tmp_path / "adjacency.csv"
    adjacency.write_text("a,b\n01,02\n02,01\n", encoding="utf-8")
    result = run("--lang", "en", "validate", tmp_path / "units.csv", "--adjacency", adjacency)
    assert result.exit_code == 0, result.output
    assert "Warning: adjacency.csv, row 3" in result.stderr
    assert "InputWarning" not in result.stderr


def test_sample_and_init_accept_the_common_quiet_and_json_options(tmp_path: Path) -> None:
    """`--quiet` prints nothing, `--json` prints the written paths (spec: common options)."""
    quiet = run("sample", "--units", 30, "-o", tmp_path / "q", "--quiet")
    assert quiet.exit_code == 0 and quiet.output == ""
    shown = run("sample", "--units", 30, "-o", tmp_path / "j", "--json")
    paths = json.loads(shown.output)
    assert shown.exit_code == 0 and set(paths) == {"units", "adjacency", "scenario"}
    assert all(Path(p).exists() for p in paths.values())
    starter = run("init", paths["units"], "-o", tmp_path / "s.toml", "--json")
    assert starter.exit_code == 0
    assert json.loads(starter.output) == {"scenario": str(tmp_path / "s.toml")}
    assert load_scenarios(tmp_path / "s.toml")


def test_plan_prints_why_an_unproven_small_plan_may_change_on_a_rerun(tmp_path: Path) -> None:
    """100 sample units, 8 clusters, population ±10 %, 2 s: the terminal shows the plan's note."""
    out = tmp_path / "s"
    assert run("sample", "--units", "100", "--seed", "0", "-o", out, "--quiet").exit_code == 0
    scenario = out / "f.toml"
    scenario.write_text(
        'name = "100 xã — 8 cụm"\n[data]\nunits = "units.csv"\n[clusters]\ncount = 8\n'
        "min_size = 11\nmax_size = 14\n[balance]\npopulation = 0.10\n[solver]\ntime_limit = 2\n",
        encoding="utf-8",
    )
    result = run("plan", scenario, "-o", tmp_path / "plan")
    assert result.exit_code == 0, result.output
    assert "FEASIBLE" in result.output
    assert "chạy lại có thể cho phương án khác" in " ".join(result.output.split())
    notes = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))["notes"]
    assert len(notes) == 1
    # ... and so does the planner's report
    assert notes[0] in (tmp_path / "plan" / "report.html").read_text(encoding="utf-8")
    # a script reading the --json summary sees the same note
    again = run("plan", scenario, "-o", tmp_path / "plan", "--force", "--json", "--lang", "en")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert len(summary["notes"]) == 1 and "rerun may give a different plan" in summary["notes"][0]
