"""Nothing lost: atomic writes, ``--force`` semantics, determinism and input limits, end to end."""

from __future__ import annotations

import csv
import json
import re
import stat
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from features.errors import InputError
from features.limits import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_UNITS,
    LimitSettingError,
    check_file_size,
    check_unit_count,
    max_file_bytes,
    max_units,
)
from features.load import InputWarning, load_adjacency, load_units
from scenarios.atomic import atomic_write_text, atomic_write_with
from scenarios.cli import main
from scenarios.definition import build_problem, load_scenarios

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "data" / "bad" / "corpus"
PLAN_FILES = {
    "assignment.csv",
    "clusters.csv",
    "plan.json",
    "report.html",
    "report.xlsx",
}
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")


def _scenario(folder: Path, name: str = "ok.toml", extra: str = "") -> Path:
    """A 2-cluster scenario over the corpus' six good units (solves in well under a second)."""
    path = folder / name
    path.write_text(
        f'name = "sáu tỉnh"\n[data]\nunits = "{(CORPUS / "units_ok.csv").as_posix()}"\n'
        f'adjacency = "{(CORPUS / "adjacency_ok.csv").as_posix()}"\n'
        "[clusters]\ncount = 2\n[balance]\npopulation = 0.3\n"
        f"[solver]\ntime_limit = 20\nseed = 3\n{extra}",
        encoding="utf-8",
    )
    return path


def _plan(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--lang", "en", "plan", *args, "--quiet"])
    return result.exit_code, result.output


# ───────────────────────────── atomic writes ─────────────────────────────


def test_every_output_writer_is_atomic() -> None:
    """No module writes a file directly: all go through a temp file + rename helper."""
    direct = re.compile(
        r"\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wax]b?['\"]|\.to_csv\(\s*[a-z_]*path"
        r"|\.to_excel\(|\.save\(|savefig\(\s*[a-z_]*path"
    )
    offenders = []
    for package in ("features", "optimizer", "scenarios"):
        for module in (ROOT / package).glob("*.py"):
            if module.name == "atomic.py":
                continue
            function = ""
            for number, line in enumerate(
                module.read_text("utf-8").splitlines(), start=1
            ):
                if line.startswith("def "):
                    function = line.split("(")[0]
                if "atomic" in function:  # the temp-file + rename helpers themselves
                    continue
                if direct.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(
                        f"{package}/{module.name}:{number}: {line.strip()}"
                    )
    assert not offenders


def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    """A writer that dies half-way leaves the previous file byte-identical and no temp file."""
    target = tmp_path / "plan.json"
    atomic_write_text(target, '{"status": "OPTIMAL"}\n')

    def dies_half_way(handle) -> None:
        handle.write(b'{"status": "FEAS')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write_with(target, dies_half_way)
    assert target.read_text() == '{"status": "OPTIMAL"}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_outputs_are_readable_by_others(tmp_path: Path) -> None:
    """Atomic outputs get the usual permissions (not mkstemp's owner-only 0600)."""
    code, output = _plan([str(_scenario(tmp_path)), "-o", str(tmp_path / "out")])
    assert code == 0, output
    for path in (tmp_path / "out").iterdir():
        assert path.stat().st_mode & stat.S_IRGRP, path.name


# ───────────────────────────── --force ─────────────────────────────


def test_existing_folder_is_never_overwritten_without_force(tmp_path: Path) -> None:
    """A second run into the same folder is refused and changes no byte; --force replaces."""
    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    code, output = _plan([str(scenario), "-o", str(out)])
    assert code == 0, output
    assert {p.name for p in out.iterdir()} == PLAN_FILES
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "ghi-chu.txt").write_text("ghi chú của cán bộ", encoding="utf-8")

    code, output = _plan([str(scenario), "-o", str(out)])
    assert code == 1 and "--force" in output and "Traceback" not in output
    assert {
        p.name: p.read_bytes() for p in out.iterdir() if p.name in PLAN_FILES
    } == before

    code, output = _plan([str(scenario), "-o", str(out), "--force"])
    assert code == 0, output
    assert (out / "ghi-chu.txt").read_text(
        "utf-8"
    ) == "ghi chú của cán bộ"  # not ours: kept
    assert {p.name for p in out.iterdir()} == PLAN_FILES | {"ghi-chu.txt"}


def test_empty_existing_folder_needs_no_force(tmp_path: Path) -> None:
    """An existing empty folder is used as is."""
    (tmp_path / "out").mkdir()
    code, output = _plan([str(_scenario(tmp_path)), "-o", str(tmp_path / "out")])
    assert code == 0, output


def test_infeasible_rerun_with_force_leaves_no_stale_plan(tmp_path: Path) -> None:
    """--force with an infeasible scenario keeps no report of the earlier plan beside INFEASIBLE."""
    out = tmp_path / "out"
    assert _plan([str(_scenario(tmp_path)), "-o", str(out)])[0] == 0
    impossible = (
        _scenario(tmp_path, "bad.toml")
        .read_text("utf-8")
        .replace("count = 2", "count = 2\nmax_size = 2")
    )
    (tmp_path / "bad.toml").write_text(impossible, encoding="utf-8")
    code, output = _plan([str(tmp_path / "bad.toml"), "-o", str(out), "--force"])
    assert code == 3, output
    assert {p.name for p in out.iterdir()} == {"plan.json"}
    assert json.loads((out / "plan.json").read_text("utf-8"))["status"] == "INFEASIBLE"


def test_bad_input_creates_no_folder(tmp_path: Path) -> None:
    """A scenario that fails on its data leaves no (empty) output folder behind."""
    scenario = _scenario(tmp_path, extra="")
    scenario.write_text(
        scenario.read_text("utf-8").replace("units_ok.csv", "tables/empty.csv"),
        encoding="utf-8",
    )
    code, _ = _plan([str(scenario), "-o", str(tmp_path / "out")])
    assert code == 1
    assert not (tmp_path / "out").exists()


# ───────────────────────────── determinism ─────────────────────────────


def _plan_json_without_timings(path: Path) -> dict:
    document = json.loads(path.read_text("utf-8"))
    document.pop("solve_seconds")
    document["manifest"].pop(
        "run"
    )  # started/finished, platform, command: the marked run block
    return document


TIMING_ROW = re.compile(r"(<th>(?:run\.[a-z_]+|solve_seconds)</th>\s*<td>)[^<]*(</td>)")


def _masked_html(text: str) -> str:
    """Report HTML with the timing rows (``run.*``, ``solve_seconds``) and timestamps masked."""
    return ISO_TIME.sub("<time>", TIMING_ROW.sub(r"\1…\2", text))


def _xlsx_rows(folder: Path) -> list[list[object]]:
    """Every row of report.xlsx, with the values of timing rows masked."""
    book = openpyxl.load_workbook(folder / "report.xlsx")
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            key = str(row[0]) if row and row[0] is not None else ""
            if key == "solve_seconds" or key.startswith("run."):
                row = (row[0], "…")
            rows.append(
                [ISO_TIME.sub("<time>", v) if isinstance(v, str) else v for v in row]
            )
    return rows


def test_same_input_scenario_and_seed_give_identical_outputs(tmp_path: Path) -> None:
    """Two runs: byte-identical CSVs, plan.json equal but for solve_seconds and manifest.run."""
    scenario = _scenario(tmp_path)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / "out"
        code, output = _plan(
            [str(scenario), "-o", str(out), "--force", "--workers", "1"]
        )
        assert code == 0, output
        copy = tmp_path / name
        copy.mkdir()
        for path in out.iterdir():
            (copy / path.name).write_bytes(path.read_bytes())
        runs.append(copy)
    a, b = runs
    for name in ("assignment.csv", "clusters.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _plan_json_without_timings(a / "plan.json") == _plan_json_without_timings(
        b / "plan.json"
    )
    run_keys = set(json.loads((a / "plan.json").read_text("utf-8"))["manifest"]["run"])
    assert run_keys <= {"started_at", "finished_at", "platform", "command"}

    html_a, html_b = ((p / "report.html").read_text("utf-8") for p in runs)
    assert _masked_html(html_a) == _masked_html(html_b)
    assert _xlsx_rows(a) == _xlsx_rows(b)


# ───────────────────────────── limits ─────────────────────────────


def test_limit_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults are documented numbers; the environment variables change them at once."""
    monkeypatch.delenv("CUMKHOI_MAX_UNITS", raising=False)
    monkeypatch.delenv("CUMKHOI_MAX_FILE_MB", raising=False)
    assert max_units() == DEFAULT_MAX_UNITS == 50_000
    assert max_file_bytes() == DEFAULT_MAX_FILE_MB * 1024 * 1024
    monkeypatch.setenv("CUMKHOI_MAX_UNITS", "100_000")
    monkeypatch.setenv("CUMKHOI_MAX_FILE_MB", " 5 ")
    assert max_units() == 100_000
    assert max_file_bytes() == 5 * 1024 * 1024


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_bad_limit_settings_are_user_errors(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A non-positive or non-integer limit is a user-fixable error naming the variable."""
    monkeypatch.setenv("CUMKHOI_MAX_UNITS", value)
    with pytest.raises(LimitSettingError, match="CUMKHOI_MAX_UNITS"):
        max_units()


def test_unit_count_limit_is_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exactly the limit passes; one more is refused with the count, the limit and a suggestion."""
    monkeypatch.setenv("CUMKHOI_MAX_UNITS", "6")
    check_unit_count(6, "units.csv")
    with pytest.raises(InputError, match=r"7.*6") as info:
        check_unit_count(7, "units.csv")
    assert "CUMKHOI_MAX_UNITS=8" in str(info.value)
    assert load_units(CORPUS / "units_ok.csv").n_units == 6


def test_file_size_is_checked_before_reading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file over the size limit is refused by its size on disk; one at the limit is read."""
    monkeypatch.setenv("CUMKHOI_MAX_FILE_MB", "1")
    path = tmp_path / "units.csv"
    path.write_bytes(b"x" * (1024 * 1024))
    check_file_size(path)
    path.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(InputError, match="CUMKHOI_MAX_FILE_MB"):
        load_units(path)
    check_file_size(tmp_path / "missing.csv")  # the reader reports missing files itself


# ───────────────────────────── inputs handled, not refused ─────────────────────────────


def test_repeated_adjacency_pairs_are_merged(tmp_path: Path) -> None:
    """'01,02', '02,01' and '01,02' again make one undirected pair (spec: merged, not an error)."""
    path = tmp_path / "adjacency.csv"
    path.write_text("a,b\n01,02\n02,01\n01,02\n02,03\n", encoding="utf-8")
    units = load_units(CORPUS / "units_ok.csv")
    with pytest.warns(InputWarning) as said:  # merged, and the planner is told where
        pairs = load_adjacency(path, units.unit_ids)
    assert sorted(tuple(sorted(p)) for p in pairs) == [("01", "02"), ("02", "03")]
    messages = [str(w.message) for w in said]
    assert len(messages) == 2 and "dòng 3" in messages[0] and "dòng 4" in messages[1]


@pytest.mark.parametrize("cell", ['"8,000,000"', "8.000.000", "8000000"])
def test_thousand_separators_read_as_the_same_number(tmp_path: Path, cell: str) -> None:
    """Grouped thousands ('8,000,000' quoted, or Vietnamese '8.000.000') are read as 8 000 000."""
    text = (CORPUS / "units_ok.csv").read_text("utf-8").replace(",8000,", f",{cell},")
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    frame = load_units(path).frame
    assert frame.at["01", "population"] == 8_000_000


# ───────────────────────────── damaged plan folders ─────────────────────────────

MUTATIONS = {
    "not_json": lambda d: "{not json",
    "a_list": lambda d: [1, 2],
    "manifest_text": lambda d: {**d, "manifest": "x"},
    "no_scenario_in_manifest": lambda d: {
        **d,
        "manifest": {**d["manifest"], "scenario": 5},
    },
    "objective_text": lambda d: {**d, "objective": "abc"},
    "metrics_list": lambda d: {**d, "metrics": [1]},
    "checks_number": lambda d: {**d, "checks": 5},
    "seed_text": lambda d: {**d, "manifest": {**d["manifest"], "seed": "x"}},
    "status_unknown": lambda d: {**d, "status": "WHAT"},
}


@pytest.fixture(scope="module")
def solved_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real ``cumkhoi plan`` output folder of the six good units."""
    folder = tmp_path_factory.mktemp("solved")
    code, output = _plan([str(_scenario(folder)), "-o", str(folder / "out")])
    assert code == 0, output
    return folder / "out"


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_hand_edited_plan_json_is_a_user_error(
    solved_folder: Path, mutation: str, tmp_path: Path
) -> None:
    """explain and compare on a damaged plan.json exit 0 or 1 with a message, never 70."""
    import shutil

    copy = tmp_path / "edited"
    shutil.copytree(solved_folder, copy)
    document = json.loads((copy / "plan.json").read_text("utf-8"))
    changed = MUTATIONS[mutation](document)
    text = (
        changed if isinstance(changed, str) else json.dumps(changed, ensure_ascii=False)
    )
    (copy / "plan.json").write_text(text, encoding="utf-8")
    runner = CliRunner()
    explained = runner.invoke(main, ["--lang", "en", "explain", str(copy)])
    compared = runner.invoke(
        main,
        [
            "--lang",
            "en",
            "compare",
            str(copy),
            str(solved_folder),
            "-o",
            str(tmp_path / "cmp"),
            "--quiet",
        ],
    )
    for result in (explained, compared):
        assert result.exit_code in (0, 1, 3), result.output
        assert "Traceback" not in result.output
    assert explained.exit_code == 0 or "plan.json" in explained.output


@pytest.mark.parametrize(
    "header",
    ["dân số", "diện tích (km²)", 'số "hộ"', "=SUM(A1)", "a\\b", "mật độ\tdân"],
)
def test_init_writes_a_scenario_that_parses_whatever_the_headers(
    tmp_path: Path, header: str
) -> None:
    """``cumkhoi init`` quotes headers that are not bare TOML keys, so its file always loads."""
    rows = [["01", "A", 10], ["02", "B", 20], ["03", "C", 35], ["04", "D", 40]]
    with (tmp_path / "units.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "name", header])
        writer.writerows(rows)
    result = CliRunner().invoke(
        main,
        [
            "--lang",
            "en",
            "init",
            str(tmp_path / "units.csv"),
            "-o",
            str(tmp_path / "s.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    spec = load_scenarios(tmp_path / "s.toml")[0]
    assert header in {**spec.similarity, **spec.balance}
    assert build_problem(spec).profiles.n_units == 4


def test_hand_edited_assignment_breaking_rules_is_refused(
    solved_folder: Path, tmp_path: Path
) -> None:
    """Every unit moved into cluster 1 by hand: explain refuses instead of calling it optimal."""
    import shutil

    copy = tmp_path / "edited"
    shutil.copytree(solved_folder, copy)
    path = copy / "assignment.csv"
    rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    for row in rows[1:]:
        row[2], row[3] = "1", "Cụm 1"
    path.write_text(
        "\ufeff" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["--lang", "en", "explain", str(copy)])
    assert result.exit_code == 1, result.output
    assert "no longer satisfies the scenario's rules" in result.output
    assert "optimal" not in result.output.lower()
