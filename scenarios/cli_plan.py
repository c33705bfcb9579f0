"""``cumkhoi plan``: solve one scenario with live progress and write its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from features.i18n import get_language, language, register, tr
from optimizer.solve import ProgressEvent
from scenarios.atomic import interrupts_deferred
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
from scenarios.definition import (
    DEFAULT_SCENARIO,
    ScenarioSpec,
    apply_overrides,
    load_scenarios,
)
from scenarios.errors import ScenarioError
from scenarios.outputs import prepare_output_dir, write_plan_outputs
from scenarios.report import write_plan_reports
from scenarios.report_data import status_cell
from scenarios.result import ScenarioResult
from scenarios.runner import run_scenario

register(
    {
        "plan.help": {
            "vi": "Giải một kịch bản và ghi kết quả (mặc định: dữ liệu 34 tỉnh đi kèm).",
            "en": "Solve one scenario and write its outputs (default: the bundled 34 provinces).",
        },
        "plan.opt_name": {
            "vi": "Tên kịch bản cần giải khi tệp có nhiều bảng [[scenario]].",
            "en": "Which scenario to solve when the file has several [[scenario]] tables.",
        },
        "plan.default_out": {
            "vi": "Mặc định: ./cumkhoi-out/<tên-kịch-bản>.",
            "en": "Default: ./cumkhoi-out/<scenario-name>.",
        },
        "plan.pick": {
            "vi": "{file} có {n} kịch bản ({names}); chọn một bằng --name",
            "en": "{file} holds {n} scenarios ({names}); choose one with --name",
        },
        "plan.no_such": {
            "vi": "{file} không có kịch bản tên '{name}'; có: {names}",
            "en": "{file} has no scenario named '{name}'; it has: {names}",
        },
        "plan.solving": {"vi": "Đang giải '{name}'", "en": "Solving '{name}'"},
        "plan.waiting": {
            "vi": "đang tìm phương án đầu tiên…",
            "en": "looking for a first plan…",
        },
        "plan.title": {"vi": "Phương án: {name}", "en": "Plan: {name}"},
        "plan.status": {
            "vi": "Trạng thái {status} · mục tiêu {objective} · cận dưới {bound} · "
            "khoảng cách {gap} · {seconds} giây",
            "en": "Status {status} · objective {objective} · bound {bound} · "
            "gap {gap} · {seconds} s",
        },
        "plan.aborted": {
            "vi": "Đã dừng theo yêu cầu trước khi có phương án đầu tiên: không có tệp nào được ghi.",
            "en": "Stopped on request before a first plan: no file was written.",
        },
        "plan.interrupted": {
            "vi": "Đã dừng theo yêu cầu: đây là phương án tốt nhất đã kiểm chứng đến lúc dừng.",
            "en": "Stopped on request: this is the best verified plan found so far.",
        },
        "plan.col_cluster": {"vi": "Cụm", "en": "Cluster"},
        "plan.col_size": {"vi": "Số đơn vị", "en": "Units"},
        "plan.col_members": {"vi": "Thành viên", "en": "Members"},
        "plan.checks_ok": {
            "vi": "Kiểm tra quy tắc: đạt cả {n} ({rules}).",
            "en": "Rule checks: all {n} pass ({rules}).",
        },
        "plan.written": {
            "vi": "Đã ghi {n} tệp vào {path}",
            "en": "Wrote {n} file(s) to {path}",
        },
    }
)

MAX_MEMBERS_SHOWN = 8


def pick_scenario(
    specs: list[ScenarioSpec], name: str | None, file: Path
) -> ScenarioSpec:
    """The scenario to solve: the only one, or the one named ``name``."""
    names = ", ".join(s.name for s in specs)
    if name is not None:
        for spec in specs:
            if spec.name == name:
                return spec
        raise ScenarioError(tr("plan.no_such", file=file, name=name, names=names))
    if len(specs) > 1:
        raise ScenarioError(tr("plan.pick", file=file, n=len(specs), names=names))
    return specs[0]


def summary_of(
    result: ScenarioResult, out_dir: Path, files: list[Path]
) -> dict[str, Any]:
    """The ``--json`` summary: headline numbers and where the files are."""
    summary: dict[str, Any] = {"scenario": result.name, "output_dir": str(out_dir)}
    if result.plan is None:
        status = "INFEASIBLE" if getattr(result.error, "exit_code", 3) == 3 else "ERROR"
        if type(result.error).__name__ == "NoSolutionError":
            status = "NO_SOLUTION"
        summary.update(status=status, reason=str(result.error))
    else:
        plan = result.plan
        summary.update(
            status=plan.status.value,
            objective=plan.objective,
            bound=plan.bound,
            gap=plan.gap,
            solve_seconds=plan.solve_seconds,
            interrupted=plan.interrupted,
            n_units=result.problem.profiles.n_units,
            n_clusters=plan.n_clusters,
            metrics=result.metrics,
            checks=result.checks,
            notes=list(plan.notes),
        )
    summary["files"] = [str(p) for p in files]
    return summary


def _print_summary(result: ScenarioResult, out_dir: Path, files: list[Path]) -> None:
    plan, problem = result.plan, result.problem
    assert plan is not None
    console = stdout_console()
    console.print(tr("plan.title", name=result.name), style="bold")
    console.print(
        tr(
            "plan.status",
            status=status_cell(result),
            objective=format_number(plan.objective),
            bound=format_number(plan.bound),
            gap=format_percent(plan.gap),
            seconds=format_number(round(plan.solve_seconds, 1), 1),
        )
    )
    if plan.interrupted:
        console.print(tr("plan.interrupted"), style="yellow")
    for note in plan.notes:  # e.g. a rerun may differ, or not every cluster count was tried
        console.print(note, style="yellow")
    columns = list(problem.rules.balance) or [
        c for c in problem.profiles.numeric_columns if c == "population"
    ]
    table = Table(show_lines=False)
    table.add_column(tr("plan.col_cluster"))
    table.add_column(tr("plan.col_size"), justify="right")
    for column in columns:
        table.add_column(column, justify="right")
    table.add_column(tr("plan.col_members"))
    frame = problem.profiles.frame
    for cluster, members in plan.assignment.parts().items():
        names = [str(frame.at[u, "name"]) for u in members]
        shown = ", ".join(names[:MAX_MEMBERS_SHOWN])
        if len(names) > MAX_MEMBERS_SHOWN:
            shown += f", … (+{len(names) - MAX_MEMBERS_SHOWN})"
        totals = [
            format_number(float(frame.loc[list(members), c].sum())) for c in columns
        ]
        table.add_row(plan.cluster_labels[cluster], str(len(members)), *totals, shown)
    console.print(table)
    console.print(
        tr("plan.checks_ok", n=len(result.checks), rules=", ".join(result.checks))
    )
    console.print(tr("plan.written", n=len(files), path=out_dir))


def _solve_with_progress(spec: ScenarioSpec, quiet: bool) -> ScenarioResult:
    if quiet:
        return run_scenario(spec)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        TextColumn("{task.fields[state]}", markup=False),
        console=stderr_console(),
        transient=False,
    ) as progress:
        task = progress.add_task(
            tr("plan.solving", name=spec.name), state=tr("plan.waiting")
        )
        lang = (
            get_language()
        )  # the solver calls back from its own thread: carry the language

        def report(event: ProgressEvent) -> None:
            with language(lang):
                state = progress_state(event.objective, event.bound)
            progress.update(task, state=state)

        return run_scenario(spec, progress=report)


@command(
    "plan",
    "plan.help",
    "\n\n\b\n  cumkhoi plan\n  cumkhoi plan kich-ban.toml -o ket-qua --time-limit 60",
)
@click.argument(
    "scenario",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@option("--name", "scenario_name", help_key="plan.opt_name", default=None)
@output_options("plan.default_out")
@solver_options
@display_options
@lang_option
def plan(
    scenario: Path | None,
    scenario_name: str | None,
    output: Path | None,
    force: bool,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Solve the scenario (bundled default when none), write outputs and reports."""
    path = scenario if scenario is not None else DEFAULT_SCENARIO
    spec = pick_scenario(load_scenarios(path), scenario_name, path)
    spec = apply_overrides(spec, overrides_from(time_limit, seed, workers))
    out_dir = output if output is not None else Path("cumkhoi-out") / slugify(spec.name)
    prepare_output_dir(out_dir, force=force)
    try:
        result = _solve_with_progress(spec, quiet)
    except KeyboardInterrupt:
        # Ctrl-C before any plan (with one, the solver returns it, interrupted): say so in
        # the planner's words before click's own "Aborted!" and exit 1
        stderr_console().print(tr("plan.aborted"), style="yellow")
        raise
    with interrupts_deferred():  # a second Ctrl-C must not cut the set of files in half
        files = write_plan_outputs(result, out_dir)
        if result.plan is not None:
            files += _write_reports(result, out_dir)
    if as_json:
        print_json(summary_of(result, out_dir, files))
    if result.plan is None:
        assert result.error is not None
        raise result.error
    if not quiet and not as_json:
        _print_summary(result, out_dir, files)


def _write_reports(result: ScenarioResult, out_dir: Path) -> list[Path]:
    """``report.html`` and ``report.xlsx`` (:mod:`scenarios.report`), in the message language."""
    return write_plan_reports(result, out_dir, lang=get_language())
