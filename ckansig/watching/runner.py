"""The parent side of ``ckansig trace``: run a Python program in a child
process with recording switched on (:mod:`ckansig.watching.child`), and hand
back where its sends were written and how it exited."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from ckansig.errors import UsageProblem
from ckansig.watching.child import resolve

__all__ = ["TracedRun", "check_command", "traced"]


class TracedRun(NamedTuple):
    """A finished traced program: the JSON-lines file of its sends, whether
    that file is the user's (``--output``) or a temporary one, and the
    program's exit status as a shell reports it."""

    path: str
    kept: bool
    exit_status: int


def check_command(command: list[str]) -> None:
    """Raise :class:`UsageProblem` unless ``command`` is a Python program ckansig can run."""
    try:
        resolve(command)
    except ValueError as exc:
        raise UsageProblem(str(exc), "COMMAND") from None


@contextmanager
def traced(command: list[str], output: str | None, pattern: str | None,
           redact: bool) -> Iterator[TracedRun]:
    """Run ``command`` with every send recorded to ``output`` (a temporary file,
    removed afterwards, when None) and yield the finished run."""
    check_command(command)
    held: int | None = None
    if output is None:
        handle, path = tempfile.mkstemp(prefix="ckansig-trace-", suffix=".jsonl")
        os.close(handle)
    else:
        path = output
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            raise UsageProblem(f"{path} is not a regular file (a folder, a FIFO or a device "
                               "cannot hold the records)", "--output")
        try:
            held = _claim(path)
        except OSError as exc:
            raise UsageProblem(f"cannot write {path}: {exc.strerror}", "--output") from None
    try:
        done = subprocess.run([sys.executable, "-m", "ckansig.watching.child", path,
                               pattern or "", "1" if redact else "0", "--", *command])
        code = done.returncode
        yield TracedRun(path, output is not None, code if code >= 0 else 128 - code)
    finally:
        if held is not None:
            os.close(held)  # releases the lock
        if output is None:
            with contextlib.suppress(FileNotFoundError):  # removed by the program itself
                os.unlink(path)


def _claim(path: str) -> int:
    """Open ``path`` for the run and hold a shared lock on it until the run
    ends. The file starts afresh unless another trace is writing to it:
    then both append (each record is one ``O_APPEND`` write), and neither
    loses a record. Without ``fcntl`` (Windows) the file just starts afresh."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        import fcntl
    except ImportError:
        os.ftruncate(fd, 0)
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another trace holds it: append to what it writes
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd
