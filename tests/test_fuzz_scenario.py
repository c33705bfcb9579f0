"""Hypothesis on scenario files against real data: only planner errors, never a crash.

``test_definition`` fuzzes the TOML grammar alone; here well-formed TOML with
random *values* (wrong types, out-of-range numbers, inf/nan, unknown ids and
columns, ids that lost their zeros) goes through ``load_scenarios`` and
``build_problem`` against the corpus' six-unit table, and a few through the
real ``cumkhoi plan``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.errors import ClusterAssignError
from scenarios.cli import main
from scenarios.definition import build_problem, load_scenarios

CORPUS = Path(__file__).parent / "data" / "bad" / "corpus"
IDS = ["01", "02", "03", "04", "05", "06", "1", "99", "", "Hà Nội"]
COLUMNS = [
    "population",
    "area_km2",
    "name",
    "region",
    "function",
    "location",
    "dan_so",
    "",
]

NUMBERS = st.one_of(
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([0, 1, 10**12, -(10**12)]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
)
VALUES = st.one_of(
    NUMBERS,
    st.booleans(),
    st.sampled_from(IDS),
    st.lists(st.sampled_from(IDS), max_size=3),
    st.lists(st.lists(st.sampled_from(IDS), max_size=3), max_size=2),
)


def _toml(value: object) -> str:
    """A TOML literal for ``value`` (floats keep inf/nan as TOML spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


SECTIONS = {
    "clusters": ["count", "min_count", "max_count", "min_size", "max_size", "cout"],
    "balance": COLUMNS,
    "similarity": COLUMNS,
    "rules": [
        "contiguous",
        "one_region",
        "one_function",
        "max_moves",
        "together",
        "apart",
        "stability_weight",
        "contigous",
    ],
    "solver": ["time_limit", "seed", "workers"],
}


@st.composite
def scenario_texts(draw: st.DrawFn) -> str:
    """A well-formed scenario file over the corpus table with random keys and values."""
    lines = [
        'name = "mờ"',
        "[data]",
        f'units = "{(CORPUS / "units_ok.csv").as_posix()}"',
    ]
    if draw(st.booleans()):
        lines.append(f'adjacency = "{(CORPUS / "adjacency_ok.csv").as_posix()}"')
    for section, keys in SECTIONS.items():
        chosen = draw(st.lists(st.sampled_from(keys), max_size=3, unique=True))
        if not chosen and section != "clusters":
            continue
        lines.append(f"[{section}]")
        if section == "clusters" and not chosen:
            lines.append(f"count = {draw(st.integers(min_value=1, max_value=3))}")
        for key in chosen:
            if key == "":
                continue
            lines.append(
                f"{json.dumps(key, ensure_ascii=False)} = {_toml(draw(VALUES))}"
            )
        if section == "rules" and draw(st.booleans()):
            unit = draw(st.sampled_from(IDS))
            label = draw(st.sampled_from(["Cụm 1", "=1+1", ""]))
            lines.append(
                f"fixed = {{ {json.dumps(unit)} = {json.dumps(label, ensure_ascii=False)} }}"
            )
    return "\n".join(lines) + "\n"


FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@given(text=scenario_texts())
@FUZZ
def test_scenarios_against_data_raise_only_planner_errors(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """load_scenarios + build_problem: a Problem, or a ClusterAssignError with a message."""
    path = tmp_path_factory.mktemp("sc") / "s.toml"
    path.write_text(text, encoding="utf-8")
    try:
        spec = load_scenarios(path)[0]
        problem = build_problem(spec)
    except ClusterAssignError as err:
        assert str(err).strip()
        return
    assert problem.profiles.n_units == 6
    assert (
        math.isfinite(problem.settings.time_limit_s)
        and problem.settings.time_limit_s > 0
    )
    assert problem.settings.num_workers >= 1
    assert all(math.isfinite(v) and v > 0 for v in problem.rules.balance.values())


@pytest.mark.slow
@given(text=scenario_texts())
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_plan_command_exits_cleanly(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The real ``cumkhoi plan`` on such files exits 0, 1 or 3 (or 2 for options), never 70."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "s.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "plan",
            str(folder / "s.toml"),
            "-o",
            str(folder / "out"),
            "--quiet",
            "--time-limit",
            "3",
        ],
    )
    assert result.exit_code in (0, 1, 3), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        document = json.loads((folder / "out" / "plan.json").read_text("utf-8"))
        members = sorted(m for c in document["clusters"] for m in c["members"])
        assert members == ["01", "02", "03", "04", "05", "06"]
