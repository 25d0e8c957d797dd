"""Record every send of every blinker signal while a program runs.

blinker has no hook for sends, so while at least one recorder is active,
``Signal.send`` and ``Signal.send_async`` are wrapped at class level (the one
place ckansig patches blinker, and only while recording), and so are the
forwards connected earlier (CKAN's ``request_started`` and ``logged_in`` are
Flask's and Flask-Login's signals forwarded by a bound ``send``). The wrapper calls
the original method unchanged: the same receivers run, in the same order,
with the same results and exceptions; it only notes what happened. With no
recorder active, the originals are back in place and cost nothing.

Sends cause sends: every record has an ``id``, the ``parent`` id of the send
during whose receivers it happened (and ``via``, that receiver), and the
``scope`` it happened in (a pytest test, a CLI command, an HTTP request: see
:func:`scope`). Both live in context variables, so threads and asyncio tasks
never mix their sends.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import CodeType, FrameType
from typing import Any

from blinker import Signal

from ckansig.isolation import OWN_PATCH
from ckansig.redaction import SecretBook
from ckansig.values import may_hold_secrets
from ckansig.watching.records import (
    LOST,
    Outcome,
    OutcomeStatus,
    SendRecord,
    renumber,
    signal_identity,
)

__all__ = ["LOST", "Outcome", "OutcomeStatus", "SendRecord", "Sink", "current_scope",
           "current_send", "record", "running_position", "running_receiver", "scope", "sending",
           "signal_identity"]


#: What a recorder calls with every send.
Sink = Callable[[SendRecord], None]

def _renumber_after_fork() -> None:
    """A forked child (an rq work horse) writes to the same trace file as its
    parent: its ids start at its pid times 10**7, so that none is the parent's."""
    if _sinks:
        renumber(os.getpid() * 10**7 + 1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renumber_after_fork)
#: the send whose receivers are running (in this thread or task)
_current: ContextVar[SendRecord | None] = ContextVar("ckansig_send", default=None)
#: what the running code is doing: "test tests/test_x.py::test_y", "GET /dataset", ...
_scope: ContextVar[str | None] = ContextVar("ckansig_scope", default=None)
#: the secrets learned in that scope (outside any scope: :data:`_UNSCOPED`)
_book: ContextVar[SecretBook | None] = ContextVar("ckansig_secrets", default=None)
#: the secrets of sends made outside any scope, for the process's life
_UNSCOPED = SecretBook()


def current_send() -> SendRecord | None:
    """The recorded send whose receivers are running now, if any."""
    return _current.get()


@contextmanager
def scope(name: str | None, secrets: SecretBook | None = None) -> Iterator[SecretBook]:
    """Sends recorded inside the block carry ``name`` as their scope, and
    their secrets go into one :class:`~ckansig.redaction.SecretBook`, which the
    block is given: ``secrets``, else a new one holding the enclosing scope's
    (a request inside a traced command hides the command line's secrets too)."""
    outer = _book.get()
    book = secrets if secrets is not None else SecretBook(() if outer is None else outer.exact)
    token, book_token = _scope.set(name), _book.set(book)
    try:
        yield book
    finally:
        _book.reset(book_token)
        _scope.reset(token)


def _own_book() -> SecretBook:
    book = _book.get()
    return _UNSCOPED if book is None else book


def current_scope() -> tuple[str | None, SecretBook]:
    """The scope of the running code, and its book of secrets."""
    return _scope.get(), _own_book()


@contextmanager
def sending(rec: SendRecord) -> Iterator[None]:
    """Sends recorded inside the block are children of ``rec`` (``fire``
    calls receivers itself, not through ``Signal.send``, and times them)."""
    if rec._marks is None:
        rec._marks = []  # not timed by the recorder: its caller asks receivers_for
    token = _current.set(rec)
    try:
        yield
    finally:
        _current.reset(token)


def running_position(parent: SendRecord, depth: int = 1) -> tuple[int | None, Any]:
    """The position among ``parent``'s receivers, and the receiver, of the one
    running now: from the receivers ``send`` was handed so far, else (a
    subclass's ``send`` that does not ask ``receivers_for``) the first whose
    code is on the stack above the caller's ``depth``-th frame."""
    index, receiver = parent.running()
    if index is not None:
        return index, receiver
    receiver = running_receiver(parent, depth + 1)
    if receiver is None:
        return None, None
    for index, candidate in enumerate(parent.signal.receivers_for(parent.sender)):
        if candidate is receiver:
            return index, receiver
    return None, receiver


def running_receiver(parent: SendRecord, depth: int = 1) -> Any:
    """Which of ``parent``'s receivers is running: the first whose code is on
    the stack above the caller's ``depth``-th frame (None when none is, a
    ``functools.partial`` say)."""
    codes = parent._codes
    if codes is None:
        codes = parent._codes = {}
        for candidate in parent.signal.receivers_for(parent.sender):
            code = getattr(getattr(candidate, "__func__", candidate), "__code__", None)
            if isinstance(code, CodeType):
                codes.setdefault(code, candidate)
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None:
        found = codes.get(frame.f_code)
        if found is not None:
            return found
        frame = frame.f_back
    return None

_lock = threading.Lock()
_sinks: list[Sink] = []
_original: dict[str, Any] = {}


@contextmanager
def record(sink: Sink) -> Iterator[None]:
    """Call ``sink`` with a :class:`SendRecord` after every send, while active."""
    with _lock:
        if not _sinks:
            _install()
        _sinks.append(sink)
    try:
        yield
    finally:
        with _lock:
            _sinks.remove(sink)
            if not _sinks:
                _uninstall()


def _emit(rec: SendRecord) -> None:
    for sink in list(_sinks):
        try:
            sink(rec)
        except Exception:  # a broken sink must not break the program
            import traceback  # (not at start-up: textwrap comes with it)

            traceback.print_exc()


def _outcomes_after_error(signal: Signal, sender: Any, exc: BaseException,
                          durations: list[float | None]) -> list[Outcome]:
    """The receivers of a send that raised, in send's order: those before the
    one that raised ran (their results are lost with the exception), it raised,
    the rest were not reached. The culprit is the receiver whose code is in the
    traceback, or, for blinker's own RuntimeError, the first coroutine one."""
    import inspect
    import traceback

    receivers = list(signal.receivers_for(sender))
    frames = {f.f_code for f, _ in traceback.walk_tb(exc.__traceback__)}
    culprit = next((i for i, r in enumerate(receivers)
                    if getattr(getattr(r, "__func__", r), "__code__", None) in frames), None)
    if culprit is None and isinstance(exc, RuntimeError):
        culprit = next((i for i, r in enumerate(receivers)
                        if inspect.iscoroutinefunction(r)), None)
    if culprit is None:
        return [Outcome(r, "unknown") for r in receivers]
    return [Outcome(r, "ok" if i < culprit else "error" if i == culprit else "not_reached",
                    LOST if i < culprit else None, exc if i == culprit else None,
                    durations[i] if i <= culprit and i < len(durations) else None)
            for i, r in enumerate(receivers)]


def _begin(signal: Signal, args: tuple[Any, ...], kwargs: dict[str, Any],
           is_async: bool) -> SendRecord:
    arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
    sender = args[0] if args else None
    book = _book.get()
    if book is None:
        book = _UNSCOPED
    rec = SendRecord(signal, sender, arguments, is_async, time.time(), _scope.get(), book)
    if may_hold_secrets(arguments) or may_hold_secrets(sender):  # rarely: learn them
        book.learn(arguments, sender, objects=False)  # no plugin code runs while recording
    parent = _current.get()
    if parent is not None:  # a send caused by a receiver of another
        rec.parent = parent.id
        rec.via_index, rec.via = running_position(parent, 2)
    return rec


def _durations(rec: SendRecord, end: float) -> list[float | None]:
    """Each receiver's time, from the marks :func:`_timed` left: the one that
    raised ran until ``end``."""
    marks = [*(rec._marks or ()), end]
    return [after - before for before, after in itertools.pairwise(marks)]


def _failed(rec: SendRecord, start: float, exc: BaseException) -> None:
    end = time.perf_counter()
    rec.duration = end - start
    rec.error = exc
    rec.outcomes = _outcomes_after_error(rec.signal, rec.sender, exc, _durations(rec, end))
    _emit(rec)


def _succeeded(rec: SendRecord, start: float, results: Any) -> None:
    end = time.perf_counter()
    rec.duration = end - start
    marks = rec._marks
    if marks is not None and len(marks) == len(results) + 1:
        rec.outcomes = [Outcome(receiver, "ok", result, None, marks[i + 1] - marks[i])
                        for i, (receiver, result) in enumerate(results)]
    else:  # a subclass's send that does not ask receivers_for, or a muted signal
        rec.outcomes = [Outcome(receiver, "ok", result) for receiver, result in results]
    _emit(rec)


def _timed(receivers: Iterator[Any], marks: list[float], handed: list[Any]) -> Iterator[Any]:
    """``receivers`` unchanged, noting each as it is handed to ``send`` (which
    calls it before asking for the next) and the time then, and after the last."""
    for receiver in receivers:
        handed.append(receiver)
        marks.append(time.perf_counter())
        yield receiver
    marks.append(time.perf_counter())


def _install() -> None:
    send, receivers_for = Signal.send, Signal.receivers_for
    send_async = getattr(Signal, "send_async", None)  # blinker 1.7+
    timed, recorded, recorded_async = _wrappers(send, receivers_for, send_async)
    _original["send"] = send
    _original["receivers_for"] = receivers_for
    Signal.receivers_for = timed  # type: ignore[method-assign]
    Signal.send = recorded  # type: ignore[method-assign, assignment, unused-ignore]
    from ckansig.loading.blinker_state import loaded_signals, redirect_forwards

    _original["forwards"] = redirect_forwards(loaded_signals(), send, recorded)
    if recorded_async is not None:
        _original["send_async"] = send_async
        Signal.send_async = recorded_async  # type: ignore[method-assign, assignment, unused-ignore]


class _Recording:
    """One send being recorded, around ``Signal.send`` (or ``send_async``):
    its record is the current send within, and is ended with the results, or
    with the exception, which goes on."""

    __slots__ = ("rec", "results", "start", "token")

    def __init__(self, signal: Signal, args: tuple[Any, ...], kwargs: dict[str, Any],
                 is_async: bool) -> None:
        self.rec = _begin(signal, args, kwargs, is_async)
        self.start = time.perf_counter()
        self.token = _current.set(self.rec)
        self.results: Any = None

    def __enter__(self) -> _Recording:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        _current.reset(self.token)
        if exc is not None:
            _failed(self.rec, self.start, exc)
        else:
            _succeeded(self.rec, self.start, self.results)


#: the originals of the last install, and the recorder's wrappers of them
_made: list[tuple[tuple[Any, ...], tuple[Any, Any, Any]]] = []


def _wrappers(send: Any, receivers_for: Any, send_async: Any) -> tuple[Any, Any, Any]:
    """The recorder's ``receivers_for``, ``send`` and ``send_async`` (None
    without it) around these originals: made again only when they changed
    (``fire`` installs the recorder each time)."""
    originals = (send, receivers_for, send_async)
    if _made and all(a is b for a, b in zip(_made[0][0], originals, strict=True)):
        return _made[0][1]

    def timed_receivers_for(self: Signal, sender: Any) -> Any:
        # send iterates receivers_for lazily: the gaps between the items it
        # asks for time each receiver, with the receivers themselves untouched
        rec = _current.get()
        if rec is None or rec.signal is not self or rec._marks is not None:
            return receivers_for(self, sender)
        rec._marks, rec._handed = [], []
        return _timed(iter(receivers_for(self, sender)), rec._marks, rec._handed)

    def recorded_send(self: Signal, *args: Any, **kwargs: Any) -> Any:
        if not _sinks:
            return send(self, *args, **kwargs)
        with _Recording(self, args, kwargs, False) as recording:
            recording.results = send(self, *args, **kwargs)
        return recording.results

    async def recorded_send_async(self: Signal, *args: Any, **kwargs: Any) -> Any:
        if not _sinks:
            return await send_async(self, *args, **kwargs)
        with _Recording(self, args, kwargs, True) as recording:
            recording.results = await send_async(self, *args, **kwargs)
        return recording.results

    made: list[Any] = [timed_receivers_for, recorded_send, None]
    wrapped = [receivers_for, send]  # recorded_send shows as Signal.send in a tree
    if send_async is not None:
        made[2] = recorded_send_async
        wrapped.append(send_async)
    for wrapper, original in zip(made, wrapped, strict=False):
        functools.update_wrapper(wrapper, original)
        setattr(wrapper, OWN_PATCH, True)
    wrappers = (made[0], made[1], made[2])
    _made[:] = [(originals, wrappers)]
    return wrappers


def _uninstall() -> None:
    _original.pop("forwards")()
    Signal.receivers_for = _original.pop("receivers_for")  # type: ignore[method-assign]
    Signal.send = _original.pop("send")  # type: ignore[method-assign]
    if "send_async" in _original:
        Signal.send_async = _original.pop("send_async")  # type: ignore[method-assign]
