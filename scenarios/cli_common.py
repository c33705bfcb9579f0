"""Option bundles and helpers every ``cumkhoi`` command shares.

Why bundles (sqlite-utils ``output_options``): ``plan``, ``compare`` and
``explain`` must spell ``--time-limit``, ``--seed``, ``--force``… the same way,
validate them at parse time (bad values exit 2 with click's message) and hand
the core a plain ``overrides`` mapping instead of click objects.
"""

from __future__ import annotations

import inspect
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
        "opt.help": {"vi": "Hiện hướng dẫn này rồi thoát.", "en": "Show this message and exit."},
        "progress.with_bound": {
            "vi": "mục tiêu {objective} · cận dưới {bound}",
            "en": "objective {objective} · bound {bound}",
        },
        "progress.objective": {
            "vi": "mục tiêu {objective} · đang cải thiện…",
            "en": "objective {objective} · improving…",
        },
    }
)

#: The option that chooses the language, and its environment variable.
LANG_OPTION, LANG_ENV = "--lang", "CUMKHOI_LANG"


def language_from_args(args: list[str]) -> str | None:
    """The language ``--lang X`` / ``--lang=X`` asks for in ``args`` (the last one wins).

    Why peek before click parses: ``--help`` is eager, so without this
    ``cumkhoi plan --help --lang en`` (or ``cumkhoi --lang en --help``)
    would print the help before the language is set.
    """
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == LANG_OPTION and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(LANG_OPTION + "="):
            found = arg.split("=", 1)[1]
    return found if found in LANGUAGES else None


class LazyHelpOption(click.Option):
    """An option whose help text is looked up when help is shown, in the language then set.

    Click stores help strings at import, when ``--lang`` has not been read
    yet; a callable keeps the lookup until ``--help`` renders it.
    """

    def __init__(self, *decls: Any, lazy_help: Callable[[], str] | None = None, **attrs: Any):
        self.lazy_help = lazy_help
        super().__init__(*decls, **attrs)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.lazy_help is not None:
            self.help = self.lazy_help()
        return super().get_help_record(ctx)


class LazyHelpMixin:
    """Command/group help looked up at display time; ``--lang`` read before ``--help``."""

    lazy_help: Callable[[], str] | None = None

    def _refresh_help(self) -> None:
        if self.lazy_help is not None:
            self.help = inspect.cleandoc(self.lazy_help())  # type: ignore[attr-defined]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lang = language_from_args(args)
        if lang is not None:
            set_language(lang)
        return super().parse_args(ctx, args)  # type: ignore[misc]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._refresh_help()
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def get_short_help_str(self, limit: int = 45) -> str:
        self._refresh_help()
        return super().get_short_help_str(limit)  # type: ignore[misc]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = tr("opt.help")
        return option


class LazyHelpCommand(LazyHelpMixin, click.Command):
    """A command whose help follows ``--lang`` (see :class:`LazyHelpMixin`)."""

    def __init__(self, *args: Any, lazy_help: Callable[[], str] | None = None, **attrs: Any):
        self.lazy_help = lazy_help
        super().__init__(*args, **attrs)


def command(name: str, help_key: str, examples: str = "") -> Callable[[F], Any]:
    """``@click.command`` whose help is the catalogue text ``help_key`` (+ literal examples)."""
    return click.command(
        name, cls=LazyHelpCommand, lazy_help=lambda: tr(help_key) + examples
    )


def option(*decls: str, help_key: str, help_tail_key: str | None = None, **attrs: Any) -> Callable[[F], F]:
    """``@click.option`` whose help is the catalogue text ``help_key`` in the language shown.

    ``help_tail_key`` appends a second catalogue text (e.g. the default
    output folder of the command).
    """

    def text() -> str:
        return tr(help_key) + (" " + tr(help_tail_key) if help_tail_key else "")

    return click.option(*decls, cls=LazyHelpOption, lazy_help=text, **attrs)


def _set_lang(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is not None:
        set_language(value)
    return value


def lang_option(func: F) -> F:
    """``--lang vi|en`` (also env ``CUMKHOI_LANG``); applied as soon as it is parsed."""
    return option(
        LANG_OPTION,
        help_key="opt.lang",
        type=click.Choice(LANGUAGES),
        envvar=LANG_ENV,
        callback=_set_lang,
        is_eager=True,
        expose_value=False,
    )(func)


def solver_options(func: F) -> F:
    """``--time-limit``, ``--seed``, ``--workers`` (None = keep the scenario's value)."""
    func = option(
        "--workers", help_key="opt.workers", type=click.IntRange(min=1), default=None
    )(func)
    func = option("--seed", help_key="opt.seed", type=click.IntRange(min=0), default=None)(func)
    return option(
        "--time-limit",
        "time_limit",
        help_key="opt.time_limit",
        type=click.FloatRange(min=0, min_open=True, max=MAX_TIME_LIMIT_S),
        default=None,
        metavar="S",
    )(func)


def output_options(default_help_key: str | None = None) -> Callable[[F], F]:
    """``-o/--output DIR`` and ``--force``; ``default_help_key`` names the default folder."""

    def decorate(func: F) -> F:
        func = option("--force", help_key="opt.force", is_flag=True)(func)
        return option(
            "-o",
            "--output",
            help_key="opt.output",
            help_tail_key=default_help_key,
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
        )(func)

    return decorate


def display_options(func: F) -> F:
    """``--quiet`` and ``--json``."""
    func = option("--json", "as_json", help_key="opt.json", is_flag=True)(func)
    return option("-q", "--quiet", help_key="opt.quiet", is_flag=True)(func)


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


def progress_state(objective: float, bound: float) -> str:
    """The progress line's text for a better plan: its objective, and the bound once known.

    The large path reports each phase's plan before its bound is computed (at
    the end), and the small path its heuristic plan before the exact model:
    their bound is 0 then, which says nothing, so it is left out.
    """
    if bound > 0:
        return tr("progress.with_bound", objective=format_number(objective),
                  bound=format_number(bound))
    return tr("progress.objective", objective=format_number(objective))
