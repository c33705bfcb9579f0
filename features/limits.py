"""Size limits on inputs, configurable, with messages that say how to change them.

Why limits at all: a planner who picks the wrong file (a 2 GB database dump, a
national population register) should get one clear sentence in a second, not
a machine that swaps for an hour and then a ``MemoryError`` traceback. The
solver's own scale limits are documented in ``benchmark-findings.md``; these
limits sit well above what it handles, so they only stop mistakes.

Defaults and how to change them (README "Limits"):

=====================  ===========  ============================================
limit                  default      change with the environment variable
=====================  ===========  ============================================
units in a table       50 000       ``CUMKHOI_MAX_UNITS`` (e.g. ``100000``)
size of an input file  200 MB       ``CUMKHOI_MAX_FILE_MB`` (e.g. ``500``)
=====================  ===========  ============================================

The variables are read at each check (not at import), so tests and scripts
may set them with ``monkeypatch.setenv`` / ``os.environ`` at any time.
"""

from __future__ import annotations

import os
from pathlib import Path

from features.errors import ClusterAssignError, InputError, Problem
from features.i18n import get_language, register, tr

register(
    {
        "limits.too_many_units": {
            "vi": "bảng có {n} đơn vị, vượt giới hạn {limit} đơn vị",
            "en": "the table has {n} units, more than the limit of {limit}",
        },
        "limits.too_many_units_hint": {
            "vi": "kiểm tra đã chọn đúng tệp; nếu đúng, đặt biến môi trường "
            "{env} (ví dụ {env}={suggest}) để nâng giới hạn",
            "en": "check that this is the right file; if it is, set the environment "
            "variable {env} (e.g. {env}={suggest}) to raise the limit",
        },
        "limits.file_too_big": {
            "vi": "tệp nặng {size} MB, vượt giới hạn {limit} MB",
            "en": "the file is {size} MB, more than the limit of {limit} MB",
        },
        "limits.file_too_big_hint": {
            "vi": "kiểm tra đã chọn đúng tệp; nếu đúng, đặt biến môi trường "
            "{env} (ví dụ {env}={suggest}) để nâng giới hạn",
            "en": "check that this is the right file; if it is, set the environment "
            "variable {env} (e.g. {env}={suggest}) to raise the limit",
        },
        "limits.bad_setting": {
            "vi": "biến môi trường {env} = '{value}' phải là một số nguyên dương",
            "en": "environment variable {env} = '{value}' must be a positive whole number",
        },
    }
)

DEFAULT_MAX_UNITS = 50_000
DEFAULT_MAX_FILE_MB = 200
ENV_MAX_UNITS = "CUMKHOI_MAX_UNITS"
ENV_MAX_FILE_MB = "CUMKHOI_MAX_FILE_MB"
_MB = 1024 * 1024


class LimitSettingError(ClusterAssignError):
    """A limit variable in the environment is not a positive whole number (exit 1)."""


def _setting(env: str, default: int) -> int:
    text = os.environ.get(env, "").strip().replace("_", "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise LimitSettingError(
            tr("limits.bad_setting", env=env, value=os.environ[env])
        )
    return value


def max_units() -> int:
    """Largest unit table accepted (``CUMKHOI_MAX_UNITS``, default 50 000)."""
    return _setting(ENV_MAX_UNITS, DEFAULT_MAX_UNITS)


def max_file_bytes() -> int:
    """Largest input file accepted, in bytes (``CUMKHOI_MAX_FILE_MB``, default 200 MB)."""
    return _setting(ENV_MAX_FILE_MB, DEFAULT_MAX_FILE_MB) * _MB


def check_unit_count(n_units: int, source: str) -> None:
    """Raise :class:`InputError` when a table of ``n_units`` rows exceeds :func:`max_units`.

    Parameters
    ----------
    n_units
        Data rows of the table (header excluded).
    source
        File name shown to the planner.
    """
    limit = max_units()
    if n_units > limit:
        raise InputError(
            [
                Problem(
                    file=source,
                    message=tr(
                        "limits.too_many_units",
                        n=_grouped(n_units),
                        limit=_grouped(limit),
                    ),
                    hint=tr(
                        "limits.too_many_units_hint",
                        env=ENV_MAX_UNITS,
                        suggest=_round_up(n_units),
                    ),
                )
            ]
        )


def check_file_size(path: Path) -> None:
    """Raise :class:`InputError` when ``path`` is larger than :func:`max_file_bytes`.

    Checked from the file's size on disk, before reading a single byte.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader reports missing/unreadable files in its own words
    limit = max_file_bytes()
    if size > limit:
        raise InputError(
            [
                Problem(
                    file=path.name,
                    message=tr(
                        "limits.file_too_big",
                        size=f"{size / _MB:.1f}",
                        limit=limit // _MB,
                    ),
                    hint=tr(
                        "limits.file_too_big_hint",
                        env=ENV_MAX_FILE_MB,
                        suggest=_round_up(size // _MB + 1),
                    ),
                )
            ]
        )


def _round_up(value: int) -> int:
    """A round number above ``value`` to suggest as the new limit."""
    step = 10 ** max(0, len(str(value)) - 1)
    return (value // step + 1) * step


def _grouped(value: int) -> str:
    """``50000`` as planners write it: ``50.000`` in Vietnamese, ``50,000`` in English."""
    text = f"{value:,}"
    return text.replace(",", ".") if get_language() == "vi" else text
