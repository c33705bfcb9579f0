"""Option bundles and helpers every ``cumkhoi`` command shares.

Why bundles (sqlite-utils ``output_options``): ``plan``, ``compare`` and
``explain`` must spell ``--time-limit``, ``--seed``, ``--force``… the same way,
validate them at parse time (bad values exit 2 with click's message) and hand
the core a plain ``overrides`` mapping instead of click objects.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from features.i18n import LANGUAGES, register, set_language, tr
from optimizer.describe import format_number as locale_number
from scenarios.definition import MAX_TIME_LIMIT_S

F = TypeVar("F", bound=Callable[..., Any])

register(
    {
        "opt.time_limit": {
            "vi": "Giới hạn thời gian tìm kiếm (giây, > 0); mặc định theo [solver] của kịch bản.",
            "en": "Search time limit in seconds (> 0); default from the scenario's [solver].",
        },
        "opt.seed": {
            "vi": "Hạt giống ngẫu nhiên (cùng dữ liệu + hạt giống + 1 luồng → cùng phương án).",
            "en": "Random seed (same data + seed + 1 worker → the same plan).",
        },
        "opt.workers": {
            "vi": "Số luồng CP-SAT (1 = tái lập được; nhiều hơn = nhanh hơn).",
            "en": "CP-SAT workers (1 = reproducible; more = faster).",
        },
        "opt.output": {"vi": "Thư mục kết quả.", "en": "Output folder."},
        "opt.force": {
            "vi": "Ghi đè các tệp kết quả trong thư mục đã có.",
            "en": "Overwrite result files in an existing folder.",
        },
        "opt.quiet": {
            "vi": "Không hiển thị tiến trình và bảng tóm tắt.",
            "en": "Show no progress and no summary table.",
        },
        "opt.json": {
            "vi": "In bản tóm tắt JSON (máy đọc được) ra stdout.",
            "en": "Print a machine-readable JSON summary on stdout.",
        },
        "opt.lang": {
            "vi": "Ngôn ngữ thông báo: vi (mặc định) hoặc en.",
            "en": "Message language: vi (default) or en.",
        },
    }
)


def _help(key: str) -> str:
    # Help text is rendered once at import, in the default language (Vietnamese).
    return tr(key)


def _set_lang(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        set_language(value)
    return value


def lang_option(func: F) -> F:
    """``--lang vi|en`` (also env ``CUMKHOI_LANG``); applied as soon as it is parsed."""
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        envvar="CUMKHOI_LANG",
        callback=_set_lang,
        is_eager=True,
        expose_value=False,
        help=_help("opt.lang"),
    )(func)


def solver_options(func: F) -> F:
    """``--time-limit``, ``--seed``, ``--workers`` (None = keep the scenario's value)."""
    func = click.option(
        "--workers", type=click.IntRange(min=1), default=None, help=_help("opt.workers")
    )(func)
    func = click.option(
        "--seed", type=click.IntRange(min=0), default=None, help=_help("opt.seed")
    )(func)
    return click.option(
        "--time-limit",
        "time_limit",
        type=click.FloatRange(min=0, min_open=True, max=MAX_TIME_LIMIT_S),
        default=None,
        metavar="S",
        help=_help("opt.time_limit"),
    )(func)


def output_options(default_help: str = "") -> Callable[[F], F]:
    """``-o/--output DIR`` and ``--force``."""

    def decorate(func: F) -> F:
        func = click.option("--force", is_flag=True, help=_help("opt.force"))(func)
        return click.option(
            "-o",
            "--output",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help=_help("opt.output") + (f" {default_help}" if default_help else ""),
        )(func)

    return decorate


def display_options(func: F) -> F:
    """``--quiet`` and ``--json``."""
    func = click.option("--json", "as_json", is_flag=True, help=_help("opt.json"))(func)
    return click.option("-q", "--quiet", is_flag=True, help=_help("opt.quiet"))(func)


def overrides_from(
    time_limit: float | None, seed: int | None, workers: int | None
) -> dict[str, object]:
    """The ``overrides`` mapping :func:`scenarios.runner.run_scenario` accepts."""
    return {"time_limit": time_limit, "seed": seed, "workers": workers}


def stdout_console() -> Console:
    """Console for results (tables); plain text when not a terminal."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, markup=False)


def stderr_console() -> Console:
    """Console for progress and notices, so ``--json`` stdout stays clean."""
    return Console(file=sys.stderr, highlight=False, soft_wrap=True, markup=False)


def print_json(data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON on stdout (UTF-8, Vietnamese readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def slugify(text: str) -> str:
    """ASCII folder name for a scenario name: ``"34 tỉnh — 6 cụm"`` → ``"34-tinh-6-cum"``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()
    return slug or "scenario"


def format_number(value: float | None, digits: int = 3) -> str:
    """Number for tables in the message language (vi ``1.234.567,5``, en ``1,234,567.5``).

    Large or whole values get no decimals; others up to ``digits``.
    """
    if value is None:
        return "—"
    value = float(value)
    decimals = 0 if abs(value) >= 1e5 or value.is_integer() else digits
    return locale_number(value, decimals=decimals)


def format_percent(fraction: float) -> str:
    """``0.0123`` → ``1,2 %`` (vi) / ``1.2 %`` (en)."""
    return locale_number(100 * fraction, decimals=1) + " %"
