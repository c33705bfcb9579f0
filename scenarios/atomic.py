"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Outputs of a plan go into official decisions; a run killed mid-write must not
leave a truncated CSV that looks complete. Every output is written to a
temporary file in the same directory, flushed to disk, then renamed over the
target (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from features.errors import ClusterAssignError
from features.i18n import register, tr

register(
    {
        "atomic.cannot_write": {
            "vi": "không ghi được {path} ({reason}); kiểm tra thư mục kết quả (-o), "
            "quyền ghi và dung lượng đĩa",
            "en": "cannot write {path} ({reason}); check the output folder (-o), "
            "write permission and free disk space",
        },
    }
)


class OutputWriteError(ClusterAssignError):
    """The operating system refused to write an output (bad folder, permissions, disk full)."""

    exit_code = 1


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write_with(path, lambda handle: handle.write(data))


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (``encoding='utf-8-sig'`` adds a BOM)."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_with(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(handle)`` on a temporary binary file, then move it to ``path``.

    Libraries that insist on writing themselves (xlsxwriter, matplotlib) get a
    handle; if ``write`` raises, the temporary file is removed and ``path`` is
    untouched.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OutputWriteError(
            tr("atomic.cannot_write", path=path, reason=err.strerror or type(err).__name__)
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException as err:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError):  # disk full, permissions: the planner can fix it
            raise OutputWriteError(
                tr("atomic.cannot_write", path=path, reason=err.strerror or type(err).__name__)
            ) from None
        raise


def _file_mode(path: Path) -> int:
    """Permissions for the new file: the old file's, else what ``open()`` would give.

    ``mkstemp`` creates files readable by their owner only (0600); a report
    shared with colleagues must get the usual ``0666 & ~umask``.
    """
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[list[int]]:
    """Hold Ctrl-C while a *set* of files is written, so the set is never half new.

    Each file is atomic on its own, but a second Ctrl-C between
    ``assignment.csv`` and ``plan.json`` would leave a folder mixing two runs.
    Writing takes seconds at most; signals received meanwhile are recorded in
    the yielded list and the run then ends normally. Outside the main thread
    (where Python cannot set handlers) this does nothing.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)
