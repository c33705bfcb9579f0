"""``--help`` follows ``--lang`` / ``CUMKHOI_LANG`` for every command and option."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from features.i18n import set_language, tr
from scenarios.cli import main
from scenarios.cli_common import language_from_args

COMMANDS = ["plan", "compare", "validate", "explain", "init", "sample"]


@pytest.fixture(autouse=True)
def _vietnamese_after():
    """Each test leaves the process language as the CLI's default."""
    yield
    set_language("vi")


def _help(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, args, env=env or {"CUMKHOI_LANG": ""})
    assert result.exit_code == 0, result.output
    return result.output


def _catalogue(key: str, lang: str) -> str:
    set_language(lang)
    try:
        return tr(key)
    finally:
        set_language("vi")


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "where", ["before", "after", "env"], ids=["--lang first", "--lang after --help", "env"]
)
def test_command_help_in_english(command: str, where: str) -> None:
    """Each command's help and option help are English with --lang en, wherever it is given."""
    if where == "before":
        out = _help(["--lang", "en", command, "--help"])
    elif where == "after":
        out = _help([command, "--help", "--lang", "en"])
    else:
        out = _help([command, "--help"], env={"CUMKHOI_LANG": "en"})
    flat = _squash(out)
    assert _squash(_catalogue("opt.lang", "en")) in flat
    assert _squash(_catalogue("opt.help", "en")) in flat
    assert _squash(_catalogue("opt.lang", "vi")) not in flat


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_vietnamese_by_default(command: str) -> None:
    """Without --lang the help is Vietnamese, the help option included."""
    flat = _squash(_help([command, "--help"]))
    assert _squash(_catalogue("opt.lang", "vi")) in flat
    assert _squash(_catalogue("opt.help", "vi")) in flat


def test_plan_help_names_its_default_folder_in_each_language() -> None:
    """The -o help joins two catalogue texts, both translated."""
    en = _squash(_help(["plan", "--help", "--lang", "en"]))
    vi = _squash(_help(["plan", "--help"]))
    assert "Output folder." in en and "Thư mục kết quả." in vi


def test_group_summaries_follow_language() -> None:
    """`cumkhoi --lang en --help` lists the commands with English one-line summaries."""
    out = _help(["--lang", "en", "--help"])
    assert "Solve one scenario" in out
    assert "Giải một kịch bản" not in out
    assert "Giải một kịch bản" in _help(["--help"])


def test_english_help_does_not_leak_into_the_next_run() -> None:
    """An English --help run leaves the next plain run Vietnamese (same process)."""
    _help(["--lang", "en", "plan", "--help"])
    assert "Giải một kịch bản" in _help(["plan", "--help"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lang", "en"], "en"),
        (["--lang=en"], "en"),
        (["plan", "--lang", "vi", "--lang", "en"], "en"),
        (["--lang", "fr"], None),
        (["--lang"], None),
        (["--", "--lang", "en"], None),
        (["plan.toml"], None),
    ],
)
def test_language_from_args(args: list[str], expected: str | None) -> None:
    """The peek reads --lang X / --lang=X (last wins), ignores unknown values and what follows --."""
    assert language_from_args(args) == expected


def test_progress_line_leaves_out_a_bound_not_yet_known() -> None:
    """A phase's plan comes before its bound (0 then): only the objective, in each language."""
    from scenarios.cli_common import progress_state

    set_language("en")
    try:
        assert progress_state(1234.5, 0.0) == "objective 1,234.5 · improving…"
        assert progress_state(1234.5, 1000.0) == "objective 1,234.5 · bound 1,000"
        set_language("vi")
        assert progress_state(1234.5, 0.0) == "mục tiêu 1.234,5 · đang cải thiện…"
        assert progress_state(1234.5, 1000.0) == "mục tiêu 1.234,5 · cận dưới 1.000"
    finally:
        set_language("vi")
