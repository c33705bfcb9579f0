"""Plan outputs: exact CSV layouts, formula neutralising, plan.json, --force semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_definition import SCENARIO_TOML, UNITS_CSV, write_case

from optimizer.errors import InfeasibleError, NoSolutionError
from optimizer.plan import Assignment, Plan, SolveStatus
from scenarios.definition import build_problem, load_scenarios
from scenarios.outputs import (
    OutputExistsError,
    assignment_csv,
    clusters_csv,
    neutralise,
    plan_document,
    prepare_output_dir,
    write_plan_outputs,
)
from scenarios.result import ScenarioResult

LABELS = {"01": 0, "02": 0, "03": 0, "04": 1, "05": 1, "06": 1}


def _plan(
    labels: dict[str, int] = LABELS, names: tuple[str, ...] = ("Cụm 1", "Cụm 2")
) -> Plan:
    return Plan(
        assignment=Assignment(labels=labels),
        cluster_labels=names,
        status=SolveStatus.FEASIBLE,
        objective=2.0,
        bound=1.5,
        solve_seconds=0.1,
        seed=0,
        details={"bound_scope": "full"},
    )


def _result(
    tmp_path: Path, units: str = UNITS_CSV, plan: Plan | None = None
) -> ScenarioResult:
    path = write_case(tmp_path, SCENARIO_TOML)
    (tmp_path / "units.csv").write_text(units, encoding="utf-8")
    spec = load_scenarios(path)[0]
    problem = build_problem(spec)
    return ScenarioResult(
        spec=spec, problem=problem, plan=plan or _plan(), manifest={"seed": 0}
    )


def test_assignment_csv_exact(tmp_path: Path) -> None:
    """Every unit once, in input order, clusters numbered from 1, CRLF rows."""
    result = _result(tmp_path)
    assert result.plan is not None
    text = assignment_csv(result.plan, result.problem)
    assert text.splitlines() == [
        "unit_id,name,cluster,cluster_label",
        "01,Một,1,Cụm 1",
        "02,Hai,1,Cụm 1",
        "03,Ba,1,Cụm 1",
        "04,Bốn,2,Cụm 2",
        "05,Năm,2,Cụm 2",
        "06,Sáu,2,Cụm 2",
    ]


def test_moved_column_when_current_grouping_known(tmp_path: Path) -> None:
    """With ``current_cluster``, ``moved`` is 1 exactly where the label changed."""
    units = UNITS_CSV.replace(",area\n", ",area,current_cluster\n")
    rows = units.splitlines()
    current = ["Cụm 1", "Cụm 1", "Cụm 2", "Cụm 2", "Cụm 2", "Cụm 2"]
    units = (
        "\n".join([rows[0], *(r + "," + c for r, c in zip(rows[1:], current))]) + "\n"
    )
    result = _result(tmp_path, units)
    assert result.plan is not None
    lines = assignment_csv(result.plan, result.problem).splitlines()
    assert lines[0].endswith(",moved")
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == [
        "0",
        "0",
        "1",
        "0",
        "0",
        "0",
    ]


def test_formula_like_names_are_neutralised(tmp_path: Path) -> None:
    """A name starting with ``=`` is written as ``'=…`` so Excel shows text."""
    result = _result(tmp_path, UNITS_CSV.replace("01,Một", '01,"=HYPERLINK(""x"")"'))
    assert result.plan is not None
    text = assignment_csv(result.plan, result.problem)
    assert '\r\n01,"\'=HYPERLINK(""x"")",1,Cụm 1\r\n' in text
    assert [neutralise(v) for v in ("+1", "-x", "@a", "ok", -3)] == [
        "'+1",
        "'-x",
        "'@a",
        "ok",
        -3,
    ]


def test_clusters_csv_totals_and_unknowns(tmp_path: Path) -> None:
    """Totals and means per cluster; a cluster with an unknown figure gets empty cells."""
    result = _result(tmp_path)
    assert result.plan is not None
    lines = clusters_csv(result.plan, result.problem).splitlines()
    assert lines[0] == (
        "cluster,cluster_label,size,main_function,main_region,"
        "population_total,population_mean,area_total,area_mean"
    )
    # Cụm 1: population 100+120+90 = 310, area unknown for 02; Cụm 2: area 8+9+6 = 23.
    assert lines[1].startswith("1,Cụm 1,3,tỉnh,Bắc,310,")
    assert lines[1].endswith(",,")
    assert lines[2] == "2,Cụm 2,3,tỉnh,Nam,310,103.333333,23,7.666667"


def test_plan_document_layout(tmp_path: Path) -> None:
    """plan.json carries the spec's keys plus the objective definition and bound scope."""
    doc = plan_document(_result(tmp_path))
    for key in (
        "scenario",
        "status",
        "objective",
        "bound",
        "gap",
        "solve_seconds",
        "n_units",
        "n_clusters",
        "metrics",
        "checks",
        "clusters",
        "manifest",
        "objective_definition",
        "bound_scope",
        "interrupted",
    ):
        assert key in doc
    assert doc["status"] == "FEASIBLE" and doc["gap"] == pytest.approx(0.25)
    assert doc["clusters"][1] == {
        "id": 2,
        "label": "Cụm 2",
        "size": 3,
        "members": ["04", "05", "06"],
        "totals": {"population": 310.0, "area": 23.0},
    }
    assert doc["clusters"][0]["totals"]["area"] is None
    assert "medoid" in doc["objective_definition"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            InfeasibleError("không khả thi", conflict=["a"], relaxations=["b"]),
            "INFEASIBLE",
        ),
        (NoSolutionError("hết giờ"), "NO_SOLUTION"),
    ],
)
def test_failure_writes_plan_json_only(
    tmp_path: Path, error: Exception, status: str
) -> None:
    """Without a plan only plan.json is written, with the status and the reason."""
    base = _result(tmp_path / "in")
    result = ScenarioResult(
        spec=base.spec, problem=base.problem, plan=None, error=error
    )  # type: ignore[arg-type]
    written = write_plan_outputs(result, tmp_path / "out")
    assert [p.name for p in written] == ["plan.json"]
    doc = json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))
    assert doc["status"] == status and doc["reason"] == str(error)
    assert ("conflict" in doc) == (status == "INFEASIBLE")


def test_outputs_written_with_bom(tmp_path: Path) -> None:
    """CSV files start with the UTF-8 BOM; plan.json is plain UTF-8 JSON."""
    written = write_plan_outputs(_result(tmp_path / "in"), tmp_path / "out")
    assert [p.name for p in written] == ["assignment.csv", "clusters.csv", "plan.json"]
    assert (
        (tmp_path / "out" / "assignment.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    )
    json.loads((tmp_path / "out" / "plan.json").read_text(encoding="utf-8"))


def test_force_semantics(tmp_path: Path) -> None:
    """Absent or empty folder: fine; non-empty: refused unless force; a file: refused."""
    assert prepare_output_dir(tmp_path / "new") == tmp_path / "new"
    assert not (tmp_path / "new").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(OutputExistsError, match="--force"):
        prepare_output_dir(tmp_path / "full")
    prepare_output_dir(tmp_path / "full", force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError):
        prepare_output_dir(tmp_path / "file", force=True)
