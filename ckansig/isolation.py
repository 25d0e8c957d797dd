"""Keep plugin code from breaking ckansig itself.

Plugin and receiver code runs inside ckansig's process, and it can do anything
Python allows. This module holds what ckansig does around that code:

- **Ctrl-C.** :func:`watching_ctrl_c` makes a real SIGINT set a flag before it
  raises ``KeyboardInterrupt``, so that ckansig can tell the user's Ctrl-C
  (abort the run) from a ``KeyboardInterrupt`` that plugin code raised itself
  (that plugin's error): :func:`plugin_fault`.
- **The interpreter.** :class:`Interpreter` notes what ckansig's own output
  needs (``sys.path``, the recursion limit, the collector, ``json`` and
  ``blinker``) before plugin code runs, and puts it back afterwards: a plugin
  that empties ``sys.path``, lowers the recursion limit or monkeypatches
  ``json`` cannot break ckansig's output.
- **stdout.** :func:`own_streams` gives ckansig streams of its own on file
  descriptors 1 and 2, and sends what plugin code writes to file descriptor 1
  (``print``, ``os.write(1, …)``, ``sys.__stdout__``, a subprocess, a thread
  printing late) to stderr instead: stdout carries ckansig's output only.
"""

from __future__ import annotations

import gc
import io
import json
import os
import signal as _signals
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any

import blinker.base

# The C functions behind signal.getsignal and signal.signal: their Python
# wrappers convert to and from enums, 7 µs a fire (each fire watches Ctrl-C).
try:
    import _signal as _handlers  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # an interpreter without it
    _handlers = _signals

__all__ = ["CTRL_C", "GC", "Interpreter", "OwnStreams", "flush_quietly", "own_streams",
           "plugin_code", "plugin_error", "plugin_fault", "release_streams", "streams",
           "text_stream", "watching_ctrl_c"]


# -- Ctrl-C ----------------------------------------------------------------------

class _CtrlC:
    """``hit``: whether the user pressed Ctrl-C (a real SIGINT) since
    :func:`watching_ctrl_c` began (an attribute: the fire loop reads it per receiver)."""

    hit = False


CTRL_C = _CtrlC()


def on_interrupt(signum: int, frame: Any) -> None:
    """A real Ctrl-C (SIGINT, or SIGTERM where ckansig treats it as one)."""
    CTRL_C.hit = True
    raise KeyboardInterrupt


def plugin_fault(exc: BaseException) -> bool:
    """Whether ``exc``, caught around plugin code, is that code's own failure
    (to be recorded against it), rather than the user's Ctrl-C (to abort the run)."""
    return not (CTRL_C.hit and isinstance(exc, KeyboardInterrupt))


def plugin_error(exc: BaseException) -> BaseException:
    """``exc``, caught around plugin code, as that plugin's error; a real
    Ctrl-C is raised again. For a loop over thousands of receivers, where an
    ``except`` clause costs nothing and a ``with`` 150 ns a receiver:
    ``except BaseException as exc: error = plugin_error(exc)``."""
    if not plugin_fault(exc):
        raise exc
    return exc


class plugin_code:  # lower case: it reads as a statement, ``with plugin_code() as guard``
    """The one guard around plugin code: ``with plugin_code() as guard:``
    runs it, and whatever it raises (``SystemExit`` and ``KeyboardInterrupt``
    included, a real Ctrl-C excepted: see :func:`plugin_fault`) is caught
    and kept in ``guard.error``, to be reported against that plugin."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __enter__(self) -> plugin_code:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if exc is None or not plugin_fault(exc):
            return False
        self.error = exc
        return True


_SIGINT = int(_signals.SIGINT)


@contextmanager
def watching_ctrl_c() -> Iterator[None]:
    """Within, a real Ctrl-C is told apart from plugin code's own
    ``KeyboardInterrupt`` (see :func:`plugin_fault`). Only in the main
    thread, and only when SIGINT has Python's default handler (a host
    program's own handler is left alone)."""
    if (threading.current_thread() is not threading.main_thread()
            or _handlers.getsignal(_SIGINT) is not _signals.default_int_handler):
        yield
        return
    CTRL_C.hit = False
    _handlers.signal(_SIGINT, on_interrupt)
    try:
        yield
    finally:
        _handlers.signal(_SIGINT, _signals.default_int_handler)


# -- the interpreter ---------------------------------------------------------------

# The module attributes ckansig relies on, whose values a plugin could replace.
_GUARDED: tuple[Any, ...] = (json, json.encoder, json.decoder, json.JSONEncoder,
                             json.JSONDecoder, blinker.base, blinker.base.Signal,
                             blinker.base.NamedSignal, blinker.base.Namespace, gc)


class _Collector:
    """The garbage collector's functions as they were when ckansig started:
    ckansig's own code calls these, so a plugin that replaces ``gc.disable``
    (or ``gc.collect``) changes nothing of ckansig's."""

    __slots__ = ()
    disable = staticmethod(gc.disable)
    enable = staticmethod(gc.enable)
    isenabled = staticmethod(gc.isenabled)
    collect = staticmethod(gc.collect)
    freeze = staticmethod(gc.freeze)


GC = _Collector()


#: Set on the functions ckansig itself puts in place of blinker's (the
#: recorder's wrappers of ``Signal.send``): :meth:`Interpreter.restore` leaves
#: them, since a recorder a plugin started (the ckansig CKAN plugin's, say)
#: must go on recording, and other recorders nest inside it.
OWN_PATCH = "__ckansig_own_patch__"


class Interpreter:
    """What ckansig's own code needs of the interpreter, as it was before
    plugin code ran (:meth:`take`), to be put back once it is done (:meth:`restore`).

    Restoring keeps what plugins added to ``sys.path`` (after the entries that
    were there before), never lowers a recursion limit a plugin raised, and
    leaves ckansig's own patches (:data:`OWN_PATCH`) in place.
    """

    def __init__(self) -> None:
        self.path = list(sys.path)
        self.recursion_limit = sys.getrecursionlimit()
        self.gc_enabled = GC.isenabled()
        self.attributes = [(owner, dict(vars(owner))) for owner in _GUARDED]

    def restore(self) -> None:
        """Undo what plugin code changed of the above."""
        added = [entry for entry in sys.path if entry not in self.path]
        if sys.path != self.path + added:
            sys.path[:] = self.path + added
        if sys.getrecursionlimit() < self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        if self.gc_enabled and not GC.isenabled():
            GC.enable()
        for owner, saved in self.attributes:
            current = vars(owner)
            for name, value in saved.items():
                now = current.get(name, _MISSING)
                if now is not value and not getattr(now, OWN_PATCH, False):
                    setattr(owner, name, value)


_MISSING = object()


# -- stdout and stderr -----------------------------------------------------------------


class OwnStreams:
    """ckansig's own stdout and stderr: ``out`` and ``err``."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self.out = out
        self.err = err


_OWN: OwnStreams | None = None


def streams() -> OwnStreams:
    """ckansig's own streams: those of :func:`own_streams` once it ran,
    ``sys.stdout`` and ``sys.stderr`` before (and in library use)."""
    if _OWN is not None:
        return _OWN
    return OwnStreams(sys.stdout, sys.stderr)


def _reopen(fd: int, like: Any) -> io.TextIOWrapper:
    """A text stream on ``fd``, encoded as ``like`` (a standard stream) is."""
    encoding = getattr(like, "encoding", None) or "utf-8"
    errors = getattr(like, "errors", None) or "strict"
    try:
        line_buffering = bool(like.line_buffering) or like is sys.stderr
    except (AttributeError, ValueError):
        line_buffering = like is sys.stderr
    return open(fd, "w", encoding=encoding, errors=errors,
                buffering=1 if line_buffering else -1, closefd=True)


def flush_quietly(*streams: Any) -> None:
    """Flush each of ``streams`` that can be (plugin code may have closed or replaced them)."""
    for stream in streams:
        with suppress(Exception):
            stream.flush()


def _fd_of(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except Exception:  # a StringIO, click's CliRunner, pytest's capture
        return None


def own_streams() -> OwnStreams:
    """Take stdout for ckansig's output, before plugin code runs (the console script).

    From then on ckansig writes to duplicates of file descriptors 1 and 2
    (:func:`streams`), and file descriptor 1 itself, with ``sys.stdout`` and
    ``sys.__stdout__`` on it, goes to stderr. Whatever plugin code writes
    to stdout, however and whenever, lands on stderr, and a plugin that closes
    ``sys.stdout`` or ``sys.stderr`` closes nothing of ckansig's. When the
    standard streams are not file descriptors 1 and 2 (a test's runner),
    only ``sys.stdout`` is sent to stderr. Idempotent; undone by :func:`release_streams`.
    """
    global _OWN, _SAVED
    if _OWN is not None:
        return _OWN
    flush_quietly(sys.stdout, sys.stderr)
    _SAVED = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__, None)
    if _fd_of(sys.stdout) != 1 or _fd_of(sys.stderr) != 2:
        _OWN = OwnStreams(sys.stdout, sys.stderr)
        sys.stdout = sys.stderr
        return _OWN
    try:
        out_fd, err_fd = os.dup(1), os.dup(2)
    except OSError:
        return streams()
    out, err = _reopen(out_fd, sys.stdout), _reopen(err_fd, sys.stderr)
    _SAVED = (*_SAVED[:4], out_fd)
    os.dup2(2, 1)
    # what plugin code is given: new objects, so that closing them closes nothing of ckansig's
    sys.stdout = sys.__stdout__ = _reopen(os.dup(1), sys.stdout)  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = _reopen(os.dup(2), sys.stderr)  # type: ignore[misc]
    _OWN = OwnStreams(out, err)
    return _OWN


_SAVED: tuple[Any, Any, Any, Any, int | None] | None = None


def release_streams() -> None:
    """The end of a command: flush ckansig's streams. Where :func:`own_streams`
    only swapped ``sys.stdout`` (in-process, under a test's runner), swap it
    back. File descriptor 1 is left on stderr: a thread that plugin code
    started may still print while the interpreter shuts down."""
    global _OWN, _SAVED
    if _OWN is None or _SAVED is None:
        return
    own, (stdout, stderr, _, _, fd) = _OWN, _SAVED
    flush_quietly(own.out, own.err)
    if fd is None:
        sys.stdout, sys.stderr = stdout, stderr
        _OWN = _SAVED = None


def text_stream(fd: int) -> io.TextIOWrapper:
    """A text stream that writes straight through to ``fd`` (left open when
    it is closed), UTF-8, as an unbuffered standard stream is (``python -u``):
    it has ``buffer`` and ``fileno()``, and nothing waits in it."""
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace",
                            write_through=True)
