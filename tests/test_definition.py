"""Scenario files: schema errors with paths, defaults, and scenario-vs-data checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.errors import InputError
from features.i18n import language
from scenarios.definition import (
    DEFAULT_SCENARIO,
    ScenarioSpec,
    apply_overrides,
    build_problem,
    load_scenarios,
    resolve_rules,
    scenario_from_dict,
)
from scenarios.errors import ScenarioError

# Six units, two regions, a path graph; population totals 310 | 310.
#
#   Bắc: 01 ─ 02 ─ 03 ─ 04 ─ 05 ─ 06 :Nam
#        100  120   90  110   95  105
UNITS_CSV = """unit_id,name,function,region,lat,lon,population,area
01,Một,tỉnh,Bắc,21.0,105.0,100,5
02,Hai,tỉnh,Bắc,21.1,105.1,120,
03,Ba,thành phố,Bắc,21.2,105.2,90,7
04,Bốn,tỉnh,Nam,10.0,106.0,110,8
05,Năm,thành phố,Nam,10.1,106.1,95,9
06,Sáu,tỉnh,Nam,10.2,106.2,105,6
"""
ADJACENCY_CSV = "a,b\n01,02\n02,03\n03,04\n04,05\n05,06\n"
SCENARIO_TOML = """name = "Sáu đơn vị"
[data]
units = "units.csv"
adjacency = "adjacency.csv"
[clusters]
count = 2
min_size = 3
max_size = 3
[balance]
population = 0.1
[similarity]
region = 2.0
population = 1.0
[solver]
time_limit = 10
"""


def write_case(
    folder: Path, scenario: str = SCENARIO_TOML, name: str = "s.toml"
) -> Path:
    """Write the six-unit table, its adjacency and a scenario into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (folder / "adjacency.csv").write_text(ADJACENCY_CSV, encoding="utf-8")
    path = folder / name
    path.write_text(scenario, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenarios(write_case(tmp_path, text))
    return str(info.value)


def test_valid_file_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    """Relative data paths become absolute paths next to the scenario file."""
    (spec,) = load_scenarios(write_case(tmp_path / "sub"))
    assert spec.name == "Sáu đơn vị"
    assert spec.data.units == (tmp_path / "sub" / "units.csv").resolve()
    assert spec.clusters.count == 2 and spec.balance == {"population": 0.1}
    assert spec.source == (tmp_path / "sub" / "s.toml").resolve()


def test_typo_in_section_is_named_with_did_you_mean(tmp_path: Path) -> None:
    """``[balanse]`` is reported with the file, the key and the close match."""
    message = _error(tmp_path, SCENARIO_TOML.replace("[balance]", "[balanse]"))
    assert "s.toml" in message
    assert "khóa không hợp lệ 'balanse' — có phải ý bạn là 'balance'?" in message


def test_typo_in_nested_key_has_dotted_path_in_english(tmp_path: Path) -> None:
    """A nested typo gives ``rules.togther`` and suggests ``rules.together``."""
    text = SCENARIO_TOML + '[rules]\ntogther = [["01", "02"]]\n'
    with language("en"):
        message = _error(tmp_path, text)
    assert "unknown key 'rules.togther' — did you mean 'rules.together'?" in message


def test_wrong_types_are_not_coerced(tmp_path: Path) -> None:
    """``count = "2"`` and unquoted unit ids are type errors, all listed at once."""
    text = (
        SCENARIO_TOML.replace("count = 2", 'count = "2"')
        + "[rules]\napart = [[1, 2]]\n"
    )
    message = _error(tmp_path, text)
    assert "'clusters.count' phải là số nguyên, nhận được '2'" in message
    assert "'rules.apart[1][1]' phải là chuỗi" in message
    assert "3 lỗi" in message


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    """A broken line is reported with its line and column numbers."""
    message = _error(tmp_path, SCENARIO_TOML.replace("count = 2", "count = = 2"))
    assert "dòng 6, cột 9" in message and "TOML" in message


def test_missing_data_file_is_named(tmp_path: Path) -> None:
    """A units path that does not exist names the key, the written value and the file."""
    message = _error(tmp_path, SCENARIO_TOML.replace('"units.csv"', '"khong-co.csv"'))
    assert 'units = "khong-co.csv"' in message and "khong-co.csv" in message


def test_missing_scenario_file(tmp_path: Path) -> None:
    """Loading a file that does not exist is a ScenarioError, not an OSError."""
    with pytest.raises(ScenarioError, match="không tìm thấy"):
        load_scenarios(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("min_size = 3", "min_size = 5", "min_size = 5 lớn hơn max_size = 3"),
        ("count = 2", "count = 2\nmin_count = 1\nmax_count = 3", "đặt count, hoặc cả"),
        ("time_limit = 10", "time_limit = 0", "'solver.time_limit' phải lớn hơn 0"),
        (
            "population = 0.1",
            "population = -0.1",
            "'balance.population' phải lớn hơn 0",
        ),
    ],
)
def test_value_rules(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """Impossible values inside the file are reported in planner words."""
    assert expected in _error(tmp_path, SCENARIO_TOML.replace(old, new))


def test_several_scenarios_share_top_level_defaults(tmp_path: Path) -> None:
    """``[[scenario]]`` tables inherit top-level tables and override key by key."""
    text = """[data]
units = "units.csv"
[clusters]
count = 2
[[scenario]]
name = "a"
[[scenario]]
[scenario.clusters]
count = 3
"""
    a, b = load_scenarios(write_case(tmp_path, text))
    assert (a.name, a.clusters.count) == ("a", 2)
    assert (b.name, b.clusters.count) == ("s-2", 3)
    assert b.data.units == a.data.units


def test_error_in_second_scenario_is_prefixed(tmp_path: Path) -> None:
    """A typo in the second ``[[scenario]]`` is located as ``scenario[2]...``."""
    text = '[data]\nunits = "units.csv"\n[[scenario]]\nname = "a"\n[[scenario]]\nnmae = "b"\n'
    assert "'scenario[2].nmae' — có phải ý bạn là 'scenario[2].name'?" in _error(
        tmp_path, text
    )


@given(key=st.from_regex(r"[a-z]{3,10}", fullmatch=True))
@settings(max_examples=30, deadline=None)
def test_any_unknown_top_level_key_is_reported(key: str) -> None:
    """Whatever the unknown key, it is a ScenarioError naming it (never accepted)."""
    known = set(ScenarioSpec.model_fields) | {"scenario"}
    data = {
        "data": {"units": str(DEFAULT_SCENARIO.parent / "vn34" / "units.csv")},
        key: 1,
    }
    if key in known:
        return
    with pytest.raises(ScenarioError, match=f"'{key}'"):
        scenario_from_dict(data)


def test_default_sizes_follow_the_documented_rule() -> None:
    """Without ``[clusters]``: count round(n/6), min floor(n/2K), max ceil(1.5n/K)."""
    spec = scenario_from_dict(
        {"data": {"units": str(DEFAULT_SCENARIO.parent / "vn34" / "units.csv")}}
    )
    rules = resolve_rules(spec, 34)
    assert (rules.n_clusters, rules.min_size, rules.max_size) == (6, 2, 9)
    assert spec.solver.time_limit == 30 and spec.solver.workers == 1


def test_build_problem_from_good_scenario(tmp_path: Path) -> None:
    """The six-unit scenario becomes a Problem with its rules, graph and features."""
    problem = build_problem(load_scenarios(write_case(tmp_path))[0])
    assert problem.unit_ids == ("01", "02", "03", "04", "05", "06")
    assert problem.rules.n_clusters == 2 and problem.rules.balance == {
        "population": 0.1
    }
    assert problem.graph is not None and problem.graph.number_of_edges() == 5
    assert set(problem.features.groups) == {"region", "population"}
    assert problem.settings.time_limit_s == 10


def test_scenario_not_fitting_the_data_lists_every_problem(tmp_path: Path) -> None:
    """Unknown column, non-numeric column, unpadded id, missing adjacency/current: one error."""
    text = (
        SCENARIO_TOML.replace('adjacency = "adjacency.csv"\n', "").replace(
            "[similarity]\nregion = 2.0",
            "[similarity]\nregion = 2.0\npopulaton = 1.0\nname = 1.0",
        )
        + '[rules]\ncontiguous = true\nmax_moves = 1\ntogether = [["1", "02"]]\n'
    )
    with pytest.raises(ScenarioError) as info:
        build_problem(load_scenarios(write_case(tmp_path, text))[0])
    message = str(info.value)
    assert "(5 lỗi)" in message
    assert (
        "cột 'populaton' không có trong bảng đơn vị — có phải 'population'?" in message
    )
    assert "cột 'name' không phải cột số" in message
    assert "mã đơn vị '1' không có trong bảng — có phải '01'?" in message
    assert "contiguous cần tệp liền kề" in message
    assert "max_moves cần cột 'current_cluster'" in message


def test_count_larger_than_units(tmp_path: Path) -> None:
    """``count`` above the number of units is refused with both numbers."""
    text = SCENARIO_TOML.replace("count = 2", "count = 7").replace(
        "min_size = 3", "min_size = 1"
    )
    with (
        language("en"),
        pytest.raises(ScenarioError, match=r"count = 7 is larger .* \(6\)"),
    ):
        build_problem(load_scenarios(write_case(tmp_path, text))[0])


def test_balance_on_incomplete_column_names_the_row(tmp_path: Path) -> None:
    """Balancing on ``area`` (empty for unit 02, Excel row 3) is an InputError naming it."""
    text = SCENARIO_TOML.replace("population = 0.1", "area = 0.5")
    with pytest.raises(InputError, match="3"):
        build_problem(load_scenarios(write_case(tmp_path, text))[0])


def test_overrides_replace_solver_keys_only() -> None:
    """CLI overrides change ``[solver]`` and keep everything else; None is ignored."""
    (spec,) = load_scenarios(DEFAULT_SCENARIO)
    new = apply_overrides(spec, {"seed": 7, "time_limit": None, "workers": 2})
    assert (new.solver.seed, new.solver.workers) == (7, 2)
    assert new.solver.time_limit == spec.solver.time_limit
    assert new.source == spec.source and new.clusters == spec.clusters


def test_resolved_scenario_round_trips() -> None:
    """The manifest's resolved scenario rebuilds the same spec (``explain`` relies on it)."""
    (spec,) = load_scenarios(DEFAULT_SCENARIO)
    again = scenario_from_dict(spec.resolved())
    assert again.resolved() == spec.resolved()


@pytest.mark.parametrize("path", sorted(DEFAULT_SCENARIO.parent.glob("*.toml")))
def test_bundled_scenarios_fit_their_data(path: Path) -> None:
    """Every bundled example scenario loads and builds a Problem on the bundled data."""
    for spec in load_scenarios(path):
        assert build_problem(spec).profiles.n_units == 34


_VALUES = st.one_of(
    st.integers(-3, 40),
    st.floats(-1, 5, allow_nan=False),
    st.booleans(),
    st.text("01ab ", max_size=4),
    st.lists(
        st.lists(st.sampled_from(["01", "02", "1", "99"]), max_size=3), max_size=2
    ),
)
_SECTIONS = {
    "clusters": ["count", "min_count", "max_count", "min_size", "max_size", "cuont"],
    "balance": ["population", "area", "name", "nope"],
    "similarity": ["region", "function", "location", "population", "area", "x"],
    "rules": [
        "contiguous",
        "one_region",
        "max_moves",
        "together",
        "apart",
        "stability_weight",
    ],
    "solver": ["time_limit", "seed", "workers", "seeed"],
}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


@st.composite
def _scenario_texts(draw: st.DrawFn) -> str:
    lines = ["[data]", 'units = "units.csv"', 'adjacency = "adjacency.csv"']
    for section in draw(st.lists(st.sampled_from(sorted(_SECTIONS)), unique=True)):
        lines.append(f"[{section}]")
        for key in draw(
            st.lists(st.sampled_from(_SECTIONS[section]), unique=True, max_size=3)
        ):
            lines.append(f"{key} = {_toml_value(draw(_VALUES))}")
    return "\n".join(lines) + "\n"


@given(text=_scenario_texts())
@settings(max_examples=40, deadline=None)
def test_random_scenarios_fail_only_with_planner_errors(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Any mix of keys and values gives a Problem or a ScenarioError/InputError, nothing else."""
    folder = tmp_path_factory.mktemp("random")
    try:
        (spec,) = load_scenarios(write_case(folder, text))
        problem = build_problem(spec)
    except (ScenarioError, InputError):
        return
    assert problem.profiles.n_units == 6


@given(text=st.text(max_size=60))
@settings(max_examples=40, deadline=None)
def test_arbitrary_text_is_a_scenario_error(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Arbitrary text in a scenario file never raises anything but ScenarioError."""
    folder = tmp_path_factory.mktemp("text")
    try:
        load_scenarios(write_case(folder, text))
    except ScenarioError:
        pass
