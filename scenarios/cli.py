"""``cumkhoi``: the command line, and the ONE place errors become exit codes.

\b
Exit codes (README "Exit codes"):
  0   success
  1   bad input, scenario or file (ClusterAssignError): clear message, no traceback
  2   usage error (click: unknown option, bad value)
  3   infeasible, or no plan within the time limit (InfeasibleError, NoSolutionError)
  70  internal error (a bug): "internal error …; rerun with --debug"
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from typing import Any

#: Ctrl-C's received while this module imports the solver stack (see below).
_CTRL_C_WHILE_STARTING: list[int] = []


def _record_ctrl_c(signum: int, frame: Any) -> None:
    """Python's own Ctrl-C behaviour (raise KeyboardInterrupt), remembered.

    Why: a KeyboardInterrupt raised inside a finaliser, a garbage-collector
    callback or a library's catch-all during an import is swallowed (Python
    prints "Exception ignored" at most), and the run would go on to the end of
    its time limit; the record lets start-up stop anyway.
    """
    _CTRL_C_WHILE_STARTING.append(signum)
    raise KeyboardInterrupt


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _record_ctrl_c)


def ctrl_c_in(error: BaseException | None) -> bool:
    """Whether Ctrl-C caused ``error``: a KeyboardInterrupt in its chain of causes.

    Why: a Ctrl-C that lands while a compiled extension initialises does not
    arrive as KeyboardInterrupt but as ``ImportError: initialization failed``
    caused by it (OR-Tools' ``cp_model_helper``: 4 of 120 Ctrl-C's sent 1.6–2.5 s
    of CPU into start-up printed that traceback).
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


try:  # importing the solver stack takes seconds: Ctrl-C meanwhile must not print a traceback
    import click

    from features.errors import ClusterAssignError
    from features.i18n import LANGUAGES, register, set_language, tr
    from features.load import InputWarning
    from scenarios.cli_common import (
        LANG_ENV,
        LazyHelpMixin,
        lang_option,
        language_from_args,
    )
    from scenarios.cli_compare import compare
    from scenarios.cli_data import init, sample, validate
    from scenarios.cli_explain import explain
    from scenarios.cli_plan import plan
except BaseException as err:  # pragma: no cover - exercised by tests/test_interrupt.py
    if not ctrl_c_in(err):
        raise
    _CTRL_C_WHILE_STARTING.append(signal.SIGINT)
finally:
    if signal.getsignal(signal.SIGINT) is _record_ctrl_c:
        signal.signal(signal.SIGINT, signal.default_int_handler)
if _CTRL_C_WHILE_STARTING:  # raised, or swallowed by some library on the way
    print("Aborted!", file=sys.stderr)  # click's own words for Ctrl-C; nothing was written
    raise SystemExit(1)

register(
    {
        "cli.internal": {
            "vi": "lỗi nội bộ: {kind}: {detail}; chạy lại với --debug để xem chi tiết "
            "và báo lỗi cho nhóm phát triển",
            "en": "internal error: {kind}: {detail}; rerun with --debug for the traceback "
            "and report it",
        },
        "cli.warning": {"vi": "Cảnh báo: {message}", "en": "Warning: {message}"},
        "cli.help": {
            "vi": "cumkhoi — đề xuất cụm/khối thi đua cân bằng, gồm các đơn vị tương đồng.",
            "en": "cumkhoi — balanced emulation clusters (cụm/khối thi đua) of comparable units.",
        },
    }
)

EXIT_CODES_HELP = """\b
Mã thoát / exit codes:
  0   thành công / success
  1   lỗi dữ liệu, kịch bản hoặc tệp / bad input, scenario or file
  2   sai cách dùng lệnh / usage error
  3   không khả thi, hoặc hết giờ chưa có phương án / infeasible, or no plan in time
  70  lỗi nội bộ (xem --debug) / internal error (see --debug)

\b
Ví dụ / example:
  cumkhoi plan
  cumkhoi --lang en validate units.csv --adjacency adjacency.csv
"""

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 70


class CumkhoiError(click.ClickException):
    """A user-fixable error shown as ``Error: <message>`` with its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: BaseException) -> int:
    """The exit code of an exception raised by a command (README table)."""
    if isinstance(error, click.ClickException):
        return error.exit_code
    if isinstance(error, ClusterAssignError):
        return EXIT_INFEASIBLE if error.exit_code == EXIT_INFEASIBLE else EXIT_INPUT
    return EXIT_INTERNAL


def _message(error: ClusterAssignError) -> str:
    """The error's text plus the conflict and relaxations an infeasibility carries."""
    text = str(error)
    extra = [f"  - {c}" for c in getattr(error, "conflict", [])]
    extra += [f"  → {r}" for r in getattr(error, "relaxations", [])]
    missing = [line for line in extra if line.strip(" -→") not in text]
    return "\n".join([text, *missing]) if missing else text


class CumkhoiGroup(LazyHelpMixin, click.Group):
    """Group that maps every exception of a command to its exit code, in one place.

    Its help, and its commands' one-line summaries, follow ``--lang`` (or
    ``CUMKHOI_LANG``) even though ``--help`` is read first.
    """

    def __init__(self, *args: Any, lazy_help: Any = None, **attrs: Any) -> None:
        self.lazy_help = lazy_help
        super().__init__(*args, **attrs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # every run starts from its own language, never the last run's (same process)
        env = os.environ.get(LANG_ENV)
        set_language(language_from_args(args) or (env if env in LANGUAGES else "vi"))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ClusterAssignError as err:
            if debug:
                raise
            raise CumkhoiError(_message(err), exit_code_for(err)) from None
        except Exception as err:  # the catch-all of the exit-code table
            if debug:
                raise
            if ctrl_c_in(err):  # Ctrl-C inside a compiled module's import: not a bug
                raise click.Abort() from None
            detail = str(err).splitlines()[0] if str(err) else ""
            message = tr("cli.internal", kind=type(err).__name__, detail=detail)
            raise CumkhoiError(message, EXIT_INTERNAL) from None


@click.group(
    cls=CumkhoiGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    lazy_help=lambda: tr("cli.help") + "\n\n" + EXIT_CODES_HELP,
)
@click.version_option(package_name="cumkhoi", prog_name="cumkhoi")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    envvar="CUMKHOI_LANG",
    help="Ngôn ngữ / language: vi (mặc định) | en.",
)
@click.option("--debug", is_flag=True, help="Hiện traceback khi lỗi / show tracebacks.")
def main(lang: str | None, debug: bool) -> None:
    set_language(lang or "vi")
    if not debug:
        warnings.showwarning = _show_input_warning


_python_showwarning = warnings.showwarning


def _show_input_warning(
    message: Any, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    """Soft defects of input files (merged pairs, empty cells) as one plain line on stderr.

    Planners should see ``Cảnh báo: adjacency.csv, dòng 3: …``, not Python's
    ``file.py:235: InputWarning:`` followed by a source line.
    """
    if issubclass(category, InputWarning):
        click.echo(tr("cli.warning", message=message), err=True)
    else:
        _python_showwarning(message, category, *args, **kwargs)


main.add_command(plan)
main.add_command(compare)
main.add_command(validate)
main.add_command(explain)
main.add_command(init)
main.add_command(sample)

__all__ = ["ctrl_c_in", "exit_code_for", "lang_option", "main"]
