"""What each receiver writes to stdout and stderr, and what it logs.

Output is captured at the file-descriptor level: file descriptors 1 and 2
point at two anonymous files while receivers run, so ``print``,
``sys.stdout.buffer``, ``os.write(1, …)``, ``sys.__stdout__`` and a
subprocess are all caught, and none of it reaches ckansig's stdout.
``sys.stdout`` and ``sys.stderr`` are real text streams on those
descriptors (with ``buffer`` and ``fileno()``) that write straight through,
so after each receiver the hot loop only asks where the two files end (two
``lseek`` calls against ``out_pos`` and ``err_pos``) to know whether it wrote
anything, and then :meth:`Capture.take` reads it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ckansig.isolation import flush_quietly, text_stream

__all__ = ["Capture"]

_SEEK_CUR = os.SEEK_CUR


def _anonymous_file(name: str) -> tuple[int, Any]:
    """A file descriptor on a file with no name (and what keeps it open)."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            return memfd_create(name), None
        except OSError:
            pass
    import tempfile

    file = tempfile.TemporaryFile()  # noqa: SIM115  # closed by Capture.close
    return file.fileno(), file


class Capture:
    """Captures file descriptors 1 and 2 and the log from :meth:`start` to
    :meth:`close`; :meth:`take` gives what was written since the last take."""

    def __init__(self) -> None:
        self.logged: list[str] = []
        self.out_fd, self._out_file = _anonymous_file("ckansig-stdout")
        self.err_fd, self._err_file = _anonymous_file("ckansig-stderr")
        self.out_pos = self.err_pos = 0
        self._saved_fds: tuple[int, int] | None = None
        self._saved_streams: tuple[Any, ...] = ()
        self._handler: Any = None

    def start(self) -> None:
        """From now on, descriptors 1 and 2 and the log are captured."""
        flush_quietly(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        self._saved_fds = (os.dup(1), os.dup(2))
        self._saved_streams = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        os.dup2(self.out_fd, 1)
        os.dup2(self.err_fd, 2)
        sys.stdout = sys.__stdout__ = text_stream(1)  # type: ignore[misc]
        sys.stderr = sys.__stderr__ = text_stream(2)  # type: ignore[misc]
        if "logging" in sys.modules:  # receivers can log only if something imported it
            import logging

            self._handler = _log_handler(self.logged)
            logging.getLogger().addHandler(self._handler)

    def take(self) -> tuple[str | None, str | None, str | None]:
        """What was written to stdout and to stderr, and logged, since the last
        take (None for nothing)."""
        out, self.out_pos = self._read(self.out_fd, self.out_pos)
        err, self.err_pos = self._read(self.err_fd, self.err_pos)
        logged = "".join(self.logged) if self.logged else None
        self.logged.clear()
        return out, err, logged

    @staticmethod
    def _read(fd: int, start: int) -> tuple[str | None, int]:
        end = os.lseek(fd, 0, _SEEK_CUR)
        if end == start:
            return None, end
        data = os.pread(fd, end - start, start)
        return data.decode("utf-8", "replace"), end

    def close(self) -> None:
        """Put descriptors 1 and 2, the standard streams and the log back."""
        if self._handler is not None:
            import logging

            logging.getLogger().removeHandler(self._handler)
        if self._saved_fds is not None:
            flush_quietly(sys.stdout, sys.stderr)
            out, err = self._saved_fds
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.close(out)
            os.close(err)
            (sys.stdout, sys.stderr,  # type: ignore[misc]
             sys.__stdout__, sys.__stderr__) = self._saved_streams
            self._saved_fds = None
        for fd, file in ((self.out_fd, self._out_file), (self.err_fd, self._err_file)):
            if file is not None:
                file.close()
            else:
                os.close(fd)


def _log_handler(logged: list[str]) -> Any:
    """A logging handler whose records go into ``logged`` as ``LEVEL logger: message`` lines."""
    import logging

    class _LogCapture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                line = f"{record.levelname} {record.name}: {record.getMessage()}\n"
            except Exception:  # a message whose arguments do not format
                line = f"{record.levelname} {record.name}: {record.msg!r}\n"
            logged.append(line)

    return _LogCapture()
