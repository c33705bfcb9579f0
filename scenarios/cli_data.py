"""``cumkhoi validate``, ``init`` and ``sample``: commands about data, nothing solved."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from features.errors import ClusterAssignError, InputError
from features.graph import build_adjacency_graph, component_count
from features.i18n import register, tr
from features.load import load_adjacency, load_units
from features.sample import write_sample
from features.types import Profiles
from scenarios.atomic import atomic_write_text
from scenarios.cli_common import (
    command,
    display_options,
    lang_option,
    option,
    print_json,
    stdout_console,
)
from scenarios.definition import load_scenarios
from scenarios.outputs import OutputExistsError
from scenarios.starter import starter_toml

register(
    {
        "validate.help": {
            "vi": "Kiểm tra bảng đơn vị (và tệp liền kề): liệt kê mọi lỗi; không giải gì.",
            "en": "Check a unit table (and adjacency file): list every problem; solve nothing.",
        },
        "data.opt_adjacency": {
            "vi": "Tệp liền kề (CSV: hai cột mã đơn vị).",
            "en": "Adjacency file (CSV: two columns of unit ids).",
        },
        "data.opt_sheet": {"vi": "Tên trang tính (XLSX).", "en": "Sheet name (XLSX)."},
        "data.opt_decimal_comma": {
            "vi": "Số viết với dấu phẩy thập phân (1,5).",
            "en": "Numbers use a decimal comma (1,5).",
        },
        "validate.col_where": {"vi": "Vị trí", "en": "Where"},
        "validate.col_value": {"vi": "Giá trị", "en": "Value"},
        "validate.col_problem": {"vi": "Lỗi", "en": "Problem"},
        "validate.col_hint": {"vi": "Cách sửa", "en": "What to do"},
        "validate.ok": {
            "vi": "{file}: hợp lệ — {n} đơn vị.",
            "en": "{file}: valid — {n} units.",
        },
        "validate.numeric": {"vi": "Cột số", "en": "Numeric columns"},
        "validate.functions": {"vi": "Chức năng/loại", "en": "Functions"},
        "validate.regions": {"vi": "Vùng", "en": "Regions"},
        "validate.location": {"vi": "Tọa độ", "en": "Coordinates"},
        "validate.current": {"vi": "Cụm hiện hành", "en": "Current grouping"},
        "validate.graph": {"vi": "Đồ thị liền kề", "en": "Adjacency graph"},
        "validate.graph_value": {
            "vi": "{pairs} cặp, {components} thành phần liên thông, {isolated} đơn vị cô lập",
            "en": "{pairs} pairs, {components} connected component(s), {isolated} isolated unit(s)",
        },
        "validate.none": {"vi": "không có", "en": "none"},
        "validate.yes": {"vi": "có", "en": "yes"},
        "validate.missing_cells": {
            "vi": "{column}: {n} ô trống",
            "en": "{column}: {n} empty cell(s)",
        },
        "init.help": {
            "vi": "Viết một kịch bản khởi đầu (TOML, chú thích tiếng Việt) phù hợp với bảng.",
            "en": "Write a starter scenario (TOML, commented) fitted to a unit table.",
        },
        "init.opt_output": {
            "vi": "Tệp kịch bản cần ghi (mặc định ./scenario.toml).",
            "en": "Scenario file to write (default ./scenario.toml).",
        },
        "init.exists": {
            "vi": "{path} đã tồn tại; dùng --force để ghi đè",
            "en": "{path} already exists; use --force to overwrite",
        },
        "init.written": {
            "vi": "Đã ghi {path}. Chạy thử: cumkhoi plan {path}",
            "en": "Wrote {path}. Try: cumkhoi plan {path}",
        },
        "sample.help": {
            "vi": "Tạo bảng đơn vị tổng hợp (+ tệp liền kề, kịch bản) để thử và đo hiệu năng.",
            "en": "Write a synthetic unit table (+ adjacency, scenario) for trials and benchmarks.",
        },
        "sample.opt_units": {"vi": "Số đơn vị cần tạo (≥ 2).", "en": "Number of units to make (≥ 2)."},
        "sample.opt_seed": {
            "vi": "Hạt giống ngẫu nhiên (cùng hạt giống → cùng bảng).",
            "en": "Random seed (same seed → the same table).",
        },
        "sample.opt_output": {"vi": "Thư mục ghi bảng mẫu.", "en": "Folder for the sample files."},
        "sample.written": {
            "vi": "Đã ghi {units}, {adjacency} và {scenario}.",
            "en": "Wrote {units}, {adjacency} and {scenario}.",
        },
        "opt.force_file": {
            "vi": "Ghi đè tệp đã có.",
            "en": "Overwrite existing files.",
        },
    }
)


def _data_options(func: Any) -> Any:
    func = option("--decimal-comma", help_key="data.opt_decimal_comma", is_flag=True)(func)
    func = option("--sheet", help_key="data.opt_sheet", default=None)(func)
    return option(
        "--adjacency",
        help_key="data.opt_adjacency",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
    )(func)


def _problem_table(error: InputError) -> Table:
    table = Table(show_lines=True)
    table.add_column("#", justify="right")
    for key in (
        "validate.col_where",
        "validate.col_problem",
        "validate.col_value",
        "validate.col_hint",
    ):
        table.add_column(tr(key))
    for i, problem in enumerate(error.problems, start=1):
        value = "" if problem.value is None else repr(problem.value)
        table.add_row(str(i), problem.where(), problem.message, value, problem.hint)
    return table


def _counts(values: Counter[str], limit: int = 8) -> str:
    if not values:
        return tr("validate.none")
    top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} ({v})" for k, v in top[:limit])
    return text + (f", … (+{len(top) - limit})" if len(top) > limit else "")


def summarise(
    profiles: Profiles, pairs: list[tuple[str, str]] | None
) -> dict[str, Any]:
    """Facts a planner checks before writing a scenario (``validate`` output)."""
    frame = profiles.frame
    functions: Counter[str] = Counter(f for fs in frame["functions"] for f in fs)
    regions: Counter[str] = Counter(
        r for r in frame["region"] if isinstance(r, str) and r
    )
    current: Counter[str] = Counter(
        c for c in frame["current_cluster"] if isinstance(c, str) and c
    )
    missing = {
        c: int(frame[c].isna().sum())
        for c in profiles.numeric_columns
        if frame[c].isna().any()
    }
    summary: dict[str, Any] = {
        "file": profiles.source,
        "n_units": profiles.n_units,
        "numeric_columns": list(profiles.numeric_columns),
        "missing_cells": missing,
        "functions": dict(functions),
        "regions": dict(regions),
        "has_location": profiles.has_location,
        "current_clusters": dict(current),
        "warnings": list(profiles.warnings),
    }
    if pairs is not None:
        graph = build_adjacency_graph(profiles.unit_ids, pairs)
        summary["adjacency"] = {
            "pairs": graph.number_of_edges(),
            "components": component_count(graph),
            "isolated": sum(1 for _ in (u for u in graph if graph.degree(u) == 0)),
        }
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(
        tr("validate.ok", file=summary["file"], n=summary["n_units"]), style="green"
    )
    table = Table(show_header=False)
    table.add_column()
    table.add_column()
    numeric = ", ".join(summary["numeric_columns"]) or tr("validate.none")
    if summary["missing_cells"]:
        numeric += " — " + "; ".join(
            tr("validate.missing_cells", column=c, n=n)
            for c, n in summary["missing_cells"].items()
        )
    table.add_row(tr("validate.numeric"), numeric)
    table.add_row(tr("validate.functions"), _counts(Counter(summary["functions"])))
    table.add_row(tr("validate.regions"), _counts(Counter(summary["regions"])))
    table.add_row(
        tr("validate.location"),
        tr("validate.yes") if summary["has_location"] else tr("validate.none"),
    )
    table.add_row(tr("validate.current"), _counts(Counter(summary["current_clusters"])))
    if "adjacency" in summary:
        table.add_row(
            tr("validate.graph"), tr("validate.graph_value", **summary["adjacency"])
        )
    console.print(table)
    for warning in summary["warnings"]:
        console.print(warning, style="yellow")


@command("validate", "validate.help")
@click.argument("units", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_data_options
@display_options
@lang_option
def validate(
    units: Path,
    adjacency: Path | None,
    sheet: str | None,
    decimal_comma: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Load, list every problem (exit 1) or print a summary (exit 0)."""
    try:
        profiles = load_units(units, sheet=sheet, decimal_comma=decimal_comma)
        pairs = (
            load_adjacency(adjacency, profiles.unit_ids)
            if adjacency is not None
            else None
        )
    except InputError as err:
        if as_json:
            print_json(
                {
                    "file": err.file,
                    "n_problems": len(err.problems),
                    "problems": [
                        {
                            "file": p.file,
                            "row": p.row,
                            "column": p.column,
                            "value": p.value,
                            "message": p.message,
                            "hint": p.hint,
                        }
                        for p in err.problems
                    ],
                }
            )
        elif not quiet:
            stdout_console().print(_problem_table(err))
        raise ClusterAssignError(
            tr("problems.header", file=err.file, n=len(err.problems))
        ) from None
    summary = summarise(profiles, pairs)
    if as_json:
        print_json(summary)
    elif not quiet:
        _print_summary(summary)


def _write_starter(
    out: Path,
    units: Path,
    adjacency: Path | None,
    force: bool,
    name: str | None = None,
    **load: Any,
) -> Path:
    if out.exists() and not force:
        raise OutputExistsError(tr("init.exists", path=out))
    profiles = load_units(units, **load)
    atomic_write_text(out, starter_toml(profiles, units, out, adjacency, name))
    load_scenarios(out)  # the starter must itself be a valid scenario
    return out


@command("init", "init.help")
@click.argument("units", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option(
    "-o",
    "--output",
    help_key="init.opt_output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("scenario.toml"),
)
@_data_options
@option("--force", help_key="opt.force_file", is_flag=True)
@display_options
@lang_option
def init(
    units: Path,
    output: Path,
    adjacency: Path | None,
    sheet: str | None,
    decimal_comma: bool,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Write the starter scenario and say how to run it."""
    _write_starter(
        output, units, adjacency, force, sheet=sheet, decimal_comma=decimal_comma
    )
    if as_json:
        print_json({"scenario": str(output)})
    elif not quiet:
        click.echo(tr("init.written", path=output))


@command("sample", "sample.help")
@option(
    "--units", "n_units", help_key="sample.opt_units", type=click.IntRange(min=2), required=True
)
@option("--seed", help_key="sample.opt_seed", type=click.IntRange(min=0), default=0)
@option(
    "-o",
    "--output",
    help_key="sample.opt_output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cumkhoi-sample"),
)
@option("--force", help_key="opt.force_file", is_flag=True)
@display_options
@lang_option
def sample(
    n_units: int, seed: int, output: Path, force: bool, quiet: bool, as_json: bool
) -> None:
    """Synthetic table + adjacency (features.sample) and a starter scenario for them."""
    units, adjacency = write_sample(output, n_units, seed=seed, force=force)
    name = f"sample-{n_units}-seed-{seed}"
    scenario = _write_starter(output / "scenario.toml", units, adjacency, force, name)
    if as_json:
        print_json(
            {"units": str(units), "adjacency": str(adjacency), "scenario": str(scenario)}
        )
    elif not quiet:
        click.echo(
            tr("sample.written", units=units, adjacency=adjacency, scenario=scenario)
        )
