"""``cumkhoi compare``: solve (or load) several scenarios and write the comparison.

Inputs may be scenario files (each with one or several ``[[scenario]]``
tables) and folders of plans solved earlier (``cumkhoi plan`` outputs). Every
scenario freshly solved also gets its own sub-folder with the plan files and
``report.html``/``report.xlsx``, so the planner can open the one they choose.
An infeasible scenario does not stop the comparison: it appears with its
reason, and the command still exits 0 once the comparison is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from features.i18n import get_language, register, tr
from scenarios.cli_common import (
    command,
    display_options,
    format_number,
    format_percent,
    lang_option,
    option,
    output_options,
    overrides_from,
    print_json,
    progress_state,
    slugify,
    solver_options,
    stderr_console,
    stdout_console,
)
from scenarios.compare import compare as compare_results
from scenarios.compare import comparison_to_json
from scenarios.definition import ScenarioSpec, load_scenarios
from scenarios.errors import ScenarioError, ScenarioNotSolved
from scenarios.outputs import prepare_output_dir, write_plan_outputs
from scenarios.report import load_geojson, write_comparison_reports, write_plan_reports
from scenarios.report_data import status_cell
from scenarios.result import ScenarioResult
from scenarios.runner import not_solved, run_scenario
from scenarios.solved import is_solved_dir, load_solved

register(
    {
        "compare.help": {
            "vi": "So sánh nhiều kịch bản (tệp kịch bản hoặc thư mục phương án đã giải): "
            "ghi comparison.html, comparison.xlsx, comparison.json.",
            "en": "Compare several scenarios (scenario files or folders of solved plans): "
            "write comparison.html, comparison.xlsx, comparison.json.",
        },
        "compare.default_out": {
            "vi": "Mặc định: ./cumkhoi-out/so-sanh.",
            "en": "Default: ./cumkhoi-out/so-sanh.",
        },
        "compare.opt_geojson": {
            "vi": "Tệp GeoJSON ranh giới đơn vị để tô bản đồ trong báo cáo từng phương án.",
            "en": "GeoJSON of unit boundaries, to fill the map in each plan report.",
        },
        "compare.not_plan_dir": {
            "vi": "{path} là thư mục nhưng không có plan.json (kết quả của 'cumkhoi plan')",
            "en": "{path} is a folder without plan.json (a 'cumkhoi plan' output)",
        },
        "compare.too_few": {
            "vi": "cần ít nhất 2 kịch bản để so sánh; nhận được {n}",
            "en": "at least 2 scenarios are needed to compare; got {n}",
        },
        "compare.solving": {"vi": "Đang giải '{name}'", "en": "Solving '{name}'"},
        "compare.loaded": {
            "vi": "Đã nạp '{name}' từ {path}",
            "en": "Loaded '{name}' from {path}",
        },
        "compare.done": {"vi": "xong", "en": "done"},
        "compare.failed": {"vi": "không có phương án", "en": "no plan"},
        "compare.skipped": {"vi": "chưa giải (đã dừng)", "en": "not solved (stopped)"},
        "compare.not_solved": {
            "vi": "Chưa giải: lần chạy đã dừng (Ctrl-C) trước kịch bản này; chạy lại để giải.",
            "en": "Not solved: the run was stopped (Ctrl-C) before this scenario; run again to solve it.",
        },
        "compare.stopped_note": {
            "vi": "Đã dừng bằng Ctrl-C: {n} kịch bản chưa giải; bảng so sánh gồm các kịch bản đã có.",
            "en": "Stopped with Ctrl-C: {n} scenario(s) not solved; the comparison covers the others.",
        },
        "compare.title": {
            "vi": "So sánh {n} kịch bản",
            "en": "Comparison of {n} scenarios",
        },
        "compare.col.scenario": {"vi": "Kịch bản", "en": "Scenario"},
        "compare.col.status": {"vi": "Trạng thái", "en": "Status"},
        "compare.col.gap": {"vi": "Khoảng cách", "en": "Gap"},
        "compare.col.clusters": {"vi": "Số cụm", "en": "Clusters"},
        "compare.col.dispersion": {"vi": "Phân tán", "en": "Dispersion"},
        "compare.col.moved": {"vi": "Chuyển cụm", "en": "Moved"},
        "compare.col.verdict": {"vi": "Nhận xét", "en": "Verdict"},
        "compare.infeasible_note": {
            "vi": "{n} kịch bản không có phương án; lý do ghi trong báo cáo so sánh.",
            "en": "{n} scenario(s) have no plan; the reasons are in the comparison.",
        },
        "compare.written": {
            "vi": "Đã ghi {n} tệp vào {path}",
            "en": "Wrote {n} file(s) to {path}",
        },
    }
)

Job = tuple[str, Any]  # ("spec", ScenarioSpec) or ("solved", Path)


def collect_jobs(inputs: tuple[Path, ...]) -> list[Job]:
    """Expand the command-line inputs into scenarios to solve and folders to load."""
    jobs: list[Job] = []
    for path in inputs:
        if path.is_dir():
            if not is_solved_dir(path):
                raise ScenarioError(tr("compare.not_plan_dir", path=path))
            jobs.append(("solved", path))
        else:
            jobs.extend(("spec", spec) for spec in load_scenarios(path))
    if len(jobs) < 2:
        raise ScenarioError(tr("compare.too_few", n=len(jobs)))
    return jobs


def unique_names(results: list[ScenarioResult]) -> list[ScenarioResult]:
    """Rename repeated scenario names ``name (2)``, ``name (3)`` so every row is distinct."""
    seen: dict[str, int] = {}
    out = []
    for result in results:
        count = seen.get(result.name, 0) + 1
        seen[result.name] = count
        if count > 1:
            problem = dataclasses.replace(
                result.problem, name=f"{result.name} ({count})"
            )
            result = dataclasses.replace(result, problem=problem)
        out.append(result)
    return out


def _run_all(
    jobs: list[Job], overrides: dict[str, object], quiet: bool
) -> list[ScenarioResult]:
    """Solve or load every job, in order; Ctrl-C stops the *comparison*, not one scenario.

    Why: Ctrl-C inside a solve returns that scenario's best verified plan
    (marked interrupted); going on to solve the next scenarios would make the
    planner press Ctrl-C once per scenario. So after a stop the remaining
    scenarios are listed as not solved (folders of solved plans still load:
    that costs no solving) and the comparison of what is there is written.
    """
    results: list[ScenarioResult] = []
    stopped = False
    progress = None if quiet else Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        TextColumn("{task.fields[state]}", markup=False),
        console=stderr_console(),
    )
    with progress if progress is not None else contextlib.nullcontext():
        for kind, arg in jobs:
            if kind == "solved":
                result = load_solved(arg)
                if progress is not None:
                    progress.add_task(
                        tr("compare.loaded", name=result.name, path=arg),
                        state="", total=1, completed=1,
                    )
                results.append(result)
                continue
            spec: ScenarioSpec = arg
            task = (
                progress.add_task(tr("compare.solving", name=spec.name), state="")
                if progress is not None
                else None
            )
            if stopped:
                result = not_solved(spec, tr("compare.not_solved"), overrides)
            else:
                try:
                    result = run_scenario(
                        spec, overrides=overrides, progress=_reporter(progress, task)
                    )
                except KeyboardInterrupt:  # outside the search (loading, checking)
                    stopped = True
                    result = not_solved(spec, tr("compare.not_solved"), overrides)
                else:
                    stopped = result.plan is not None and result.plan.interrupted
            if progress is not None:
                if result.plan is not None:
                    state = tr("compare.done")
                elif isinstance(result.error, ScenarioNotSolved):
                    state = tr("compare.skipped")
                else:
                    state = tr("compare.failed")
                progress.update(task, state=state, total=1, completed=1)
            results.append(result)
    return results


def _reporter(progress: Progress | None, task: Any) -> Any:
    """The progress callback of one scenario's search (None when quiet)."""
    if progress is None:
        return None

    def report(event: Any) -> None:
        progress.update(
            task,
            state=progress_state(event.objective, event.bound),
        )

    return report


def _print_table(comparison: Any) -> None:
    console = stdout_console()
    table = Table(title=tr("compare.title", n=len(comparison.names)))
    for key, justify in (
        ("scenario", "left"),
        ("status", "left"),
        ("gap", "right"),
        ("clusters", "right"),
        ("dispersion", "right"),
        ("moved", "right"),
        ("verdict", "left"),
    ):
        table.add_column(tr(f"compare.col.{key}"), justify=justify)  # type: ignore[arg-type]
    for name in comparison.names:
        plan = comparison.result(name).plan
        values = comparison.values[name]
        table.add_row(
            name,
            status_cell(comparison.result(name)),
            format_percent(plan.gap) if plan else "—",
            format_number(values.get("n_clusters")),
            format_number(values.get("dispersion")),
            format_number(values.get("units_moved")),
            comparison.verdict_text(name),
        )
    console.print(table)


@command("compare", "compare.help")
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@output_options("compare.default_out")
@solver_options
@display_options
@option(
    "--geojson",
    help_key="compare.opt_geojson",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
)
@lang_option
def compare(
    inputs: tuple[Path, ...],
    output: Path | None,
    force: bool,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    as_json: bool,
    geojson: Path | None,
) -> None:
    """\b
    cumkhoi compare a.toml b.toml c.toml -o so-sanh
    cumkhoi compare nhieu-kich-ban.toml ket-qua-nam-ngoai/ -o so-sanh
    """
    jobs = collect_jobs(inputs)
    boundaries = load_geojson(geojson) if geojson is not None else None
    out_dir = output if output is not None else Path("cumkhoi-out") / "so-sanh"
    prepare_output_dir(out_dir, force=force)
    overrides = overrides_from(time_limit, seed, workers)
    results = unique_names(_run_all(jobs, overrides, quiet or as_json))
    lang = get_language()
    files: list[Path] = []
    links: dict[str, str] = {}
    used: set[str] = set()
    for (kind, _), result in zip(jobs, results, strict=True):
        if kind == "spec" and not isinstance(result.error, ScenarioNotSolved):
            slug = slugify(result.name)
            while slug in used:
                slug += "-2"
            used.add(slug)
            sub = out_dir / slug
            files += write_plan_outputs(result, sub)
            reports = write_plan_reports(result, sub, lang=lang, geojson=boundaries)
            if reports:
                links[result.name] = f"{slug}/{reports[0].name}"
            files += reports
    comparison = compare_results(results)
    files = (
        write_comparison_reports(comparison, out_dir, lang=lang, plan_links=links)
        + files
    )
    n_skipped = sum(1 for r in results if isinstance(r.error, ScenarioNotSolved))
    n_failed = sum(1 for r in results if r.plan is None) - n_skipped
    if as_json:
        print_json(
            {
                **comparison_to_json(comparison),
                "output_dir": str(out_dir),
                "files": [str(p) for p in files],
            }
        )
        return
    if quiet:
        return
    _print_table(comparison)
    console = stdout_console()
    if n_failed:
        console.print(tr("compare.infeasible_note", n=n_failed), style="yellow")
    if n_skipped:
        console.print(tr("compare.stopped_note", n=n_skipped), style="yellow")
    console.print(tr("compare.written", n=len(files), path=out_dir))
