"""``cumkhoi validate``, ``init`` and ``sample``: commands about data, nothing solved."""

from __future__ import annotations

import math
import os
import unicodedata
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
    display_options,
    lang_option,
    print_json,
    stdout_console,
)
from scenarios.definition import load_scenarios
from scenarios.outputs import OutputExistsError

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

POPULATION_HINTS = (
    "population",
    "dan_so",
    "danso",
    "dân số",
    "dan so",
    "nhan_khau",
    "pop",
)


def _data_options(func: Any) -> Any:
    func = click.option(
        "--decimal-comma", is_flag=True, help=tr("data.opt_decimal_comma")
    )(func)
    func = click.option("--sheet", default=None, help=tr("data.opt_sheet"))(func)
    return click.option(
        "--adjacency",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help=tr("data.opt_adjacency"),
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


@click.command("validate", help=tr("validate.help"))
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


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace(" ", "_")


def population_column(profiles: Profiles) -> str | None:
    """A complete, population-like scale column to balance on, if the table has one."""
    complete = [c for c in profiles.numeric_columns if profiles.frame[c].notna().all()]
    for hint in POPULATION_HINTS:
        for column in complete:
            if hint.replace(" ", "_") in _fold(column):
                return column
    return None


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _balance_tolerance(values: list[float], n_clusters: int, min_size: int) -> float:
    """±15 %, widened (in 5 % steps, plus 5 % margin) until the largest unit's cluster fits.

    The largest unit shares its cluster with at least ``min_size - 1`` others,
    so even with the smallest of them the cluster total must stay under the band.
    """
    ordered = sorted(values)
    mean = sum(ordered) / n_clusters
    if mean <= 0:
        return 0.15
    lightest = ordered[-1] + sum(ordered[: max(0, min_size - 1)])
    needed = lightest / mean - 1
    return round(max(0.15, math.ceil((needed + 0.05) * 20) / 20), 2)


def starter_toml(
    profiles: Profiles,
    units: Path,
    out: Path,
    adjacency: Path | None = None,
    name: str | None = None,
) -> str:
    """A commented starter scenario fitted to ``profiles`` (see ``cumkhoi init``)."""
    n = profiles.n_units
    k = max(1, round(n / 6))
    lo, hi = max(1, n // k - 1), math.ceil(n / k) + 1
    frame = profiles.frame
    has_function = bool(frame["functions"].map(len).gt(0).any())
    has_region = bool(frame["region"].notna().any())
    population = population_column(profiles)
    base = out.resolve().parent
    lines = [
        tr("init.c_head", file=units.name, n=n),
        tr("init.c_run", out=out.name),
        f"name = {_toml_str(name or units.stem)}",
        "",
        "[data]",
        f"units = {_toml_str(Path(os.path.relpath(units.resolve(), base)).as_posix())}",
    ]
    if adjacency is not None:
        rel = Path(os.path.relpath(adjacency.resolve(), base)).as_posix()
        lines.append(f"adjacency = {_toml_str(rel)}")
    lines += [
        "",
        "[clusters]",
        tr("init.c_count", n=n),
        f"count = {k}",
        f"min_size = {lo}",
    ]
    lines += [f"max_size = {hi}", "", "[balance]", tr("init.c_balance")]
    if population is not None:
        tol = _balance_tolerance(frame[population].tolist(), k, lo)
        lines.append(f"{population} = {tol}")
    else:
        lines.append("# population = 0.15")
    lines += ["", "[similarity]", tr("init.c_similarity")]
    weights = []
    if has_function:
        weights.append(("function", 2.0))
    if has_region:
        weights.append(("region", 2.0))
    if profiles.has_location:
        weights.append(("location", 1.0))
    if population is not None:
        weights.append((population, 1.0))
    if not weights:
        weights = [
            (c, 1.0) for c in profiles.numeric_columns if frame[c].notna().all()
        ][:3]
    lines += [f"{key} = {value}" for key, value in weights]
    lines += ["", "[rules]", tr("init.c_contiguous")]
    lines.append(f"contiguous = {'false'}")
    lines += [tr("init.c_one_region"), "one_region = false"]
    lines += [tr("init.c_one_function"), "one_function = false"]
    lines += [
        tr("init.c_pairs"),
        '# together = [["01", "02"]]',
        '# apart = [["01", "03"]]',
    ]
    if profiles.has_current:
        lines += [tr("init.c_moves"), f"# max_moves = {max(1, n // 5)}"]
    lines += [
        "",
        "[solver]",
        tr("init.c_solver"),
        "time_limit = 30",
        "seed = 0",
        "workers = 1",
        "",
    ]
    return "\n".join(lines)


register(
    {
        "init.c_head": {
            "vi": "# Kịch bản khởi đầu do `cumkhoi init` tạo từ {file} ({n} đơn vị).",
            "en": "# Starter scenario written by `cumkhoi init` from {file} ({n} units).",
        },
        "init.c_run": {
            "vi": "# Sửa các giá trị bên dưới rồi chạy: cumkhoi plan {out}",
            "en": "# Edit the values below, then run: cumkhoi plan {out}",
        },
        "init.c_count": {
            "vi": "# Số cụm (≈ {n} đơn vị / 6) và số đơn vị tối thiểu/tối đa mỗi cụm",
            "en": "# Number of clusters (≈ {n} units / 6) and min/max units per cluster",
        },
        "init.c_balance": {
            "vi": "# Cân bằng: tổng của cột trong mỗi cụm nằm trong ±tỷ lệ quanh mức trung bình",
            "en": "# Balance: each cluster's column total within ±tolerance of the mean",
        },
        "init.c_similarity": {
            "vi": "# Tương đồng: trọng số của từng tiêu chí (function, region, location, cột số)",
            "en": "# Similarity: weight of each criterion (function, region, location, a column)",
        },
        "init.c_contiguous": {
            "vi": "# true = mỗi cụm liền một dải (cần [data] adjacency)",
            "en": "# true = each cluster is connected (needs [data] adjacency)",
        },
        "init.c_one_region": {
            "vi": "# true = mỗi cụm chỉ gồm đơn vị cùng một vùng",
            "en": "# true = no cluster spans two regions",
        },
        "init.c_one_function": {
            "vi": "# true = khối theo chức năng: mỗi cụm cùng một loại",
            "en": "# true = block mode: one function per cluster",
        },
        "init.c_pairs": {
            "vi": "# Các đơn vị phải cùng cụm / phải khác cụm (mã trong ngoặc kép)",
            "en": "# Units that must share a cluster / must be apart (quoted ids)",
        },
        "init.c_moves": {
            "vi": "# Tối đa bao nhiêu đơn vị được đổi cụm so với current_cluster",
            "en": "# At most this many units may change cluster vs current_cluster",
        },
        "init.c_solver": {
            "vi": "# Thời gian tìm kiếm (giây), hạt giống, số luồng (1 = tái lập được)",
            "en": "# Search time (s), seed, workers (1 = reproducible)",
        },
    }
)


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


@click.command("init", help=tr("init.help"))
@click.argument("units", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("scenario.toml"),
    help=tr("init.opt_output"),
)
@_data_options
@click.option("--force", is_flag=True, help=tr("opt.force_file"))
@lang_option
def init(
    units: Path,
    output: Path,
    adjacency: Path | None,
    sheet: str | None,
    decimal_comma: bool,
    force: bool,
) -> None:
    """Write the starter scenario and say how to run it."""
    _write_starter(
        output, units, adjacency, force, sheet=sheet, decimal_comma=decimal_comma
    )
    click.echo(tr("init.written", path=output))


@click.command("sample", help=tr("sample.help"))
@click.option("--units", "n_units", type=click.IntRange(min=2), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cumkhoi-sample"),
)
@click.option("--force", is_flag=True, help=tr("opt.force_file"))
@lang_option
def sample(n_units: int, seed: int, output: Path, force: bool) -> None:
    """Synthetic table + adjacency (features.sample) and a starter scenario for them."""
    units, adjacency = write_sample(output, n_units, seed=seed, force=force)
    name = f"sample-{n_units}-seed-{seed}"
    scenario = _write_starter(output / "scenario.toml", units, adjacency, force, name)
    click.echo(
        tr("sample.written", units=units, adjacency=adjacency, scenario=scenario)
    )
