"""Fire a signal and trace every receiver, faithful to blinker.

:func:`fire` walks ``signal.receivers_for(sender)`` exactly as
``Signal.send`` does (same receivers, same order, same sender filtering,
muting honoured) and records for each receiver what happened. By default
every receiver runs even when an earlier one raised (like Django's
``send_robust``), and the trace marks those that ``send`` would not have
reached; ``stop_on_error`` stops at the first exception, as ``send`` does.
Coroutine receivers are awaited, as ``send_async`` would.

The loop (:func:`_call_each`) does as little as it can per receiver: the
call, two clock reads and, when asked, one comparison against a snapshot of
the arguments. What surrounds it, capturing output and running coroutines,
is :class:`_Session`'s.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from time import perf_counter
from typing import Any, Protocol

from ckansig.firing.snapshots import Snapshot
from ckansig.firing.trace import Calls, DbChanges, Extra, Trace
from ckansig.model import Registry, Sender, SignalInfo

__all__ = ["Observer", "fire"]

_COROUTINE = types.CoroutineType


def fire(
    info: SignalInfo,
    sender: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
    stop_on_error: bool = False,
    dry_run: bool = False,
    check_mutation: bool = True,
    capture_output: bool = False,
    observer: Observer | None = None,
) -> Trace:
    """Send ``info``'s signal from ``sender`` with ``kwargs`` and trace it.

    ``registry`` supplies provenance (plugin, how it was connected) for each
    receiver. With ``capture_output`` what receivers print to stdout is kept
    in the trace instead of being printed. Exceptions a receiver raises,
    ``SystemExit`` and ``KeyboardInterrupt`` included, are recorded, never
    propagated. An ``observer`` is given the :class:`Calls` before the first
    receiver runs (the receiver running is the one at ``len(calls.results)``),
    and its ``db_changes`` are the trace's.
    """
    kwargs = dict(kwargs or {})
    signal = info.signal
    notes = _sender_notes(info, sender)
    muted = bool(getattr(signal, "is_muted", False))
    snapshot = Snapshot(sender, kwargs) if check_mutation and not (muted or dry_run) else None
    # the arguments as sent, before any receiver ran (the copies of plain data;
    # what could not be copied is shown as it is afterwards)
    sent = {**kwargs, **snapshot.kwargs} if snapshot is not None else kwargs
    if muted:
        notes.append("the signal is muted: Signal.send calls no receiver")
        calls = Calls.listed([])
    elif dry_run:
        calls = Calls.listed(list(signal.receivers_for(sender)))
    else:
        calls = Calls([], [], [], {})
        if observer is not None:
            observer.attach(calls)
        with _session(capture_output) as session:
            _call_each(calls, signal.receivers_for(sender), sender, kwargs, snapshot, session,
                       stop_on_error)
    return Trace(registry, info, sender, sent, calls, dry_run=dry_run,
                 stop_on_error=stop_on_error, muted=muted, notes=notes,
                 unchecked=snapshot.unchecked if snapshot is not None else (),
                 db_changes=observer.db_changes if observer is not None else None)


class Observer(Protocol):
    """Watches a fire from outside the hot loop (the database, for ``--app``)."""

    db_changes: dict[int, DbChanges] | None

    def attach(self, calls: Calls) -> None:
        """Called once, before the first receiver runs."""


def _call_each(
    calls: Calls, receivers: Iterable[Any], sender: Any, kwargs: dict[str, Any],
    snapshot: Snapshot | None, session: _Session, stop_on_error: bool,
) -> None:
    """Call every receiver as ``Signal.send`` would, recording what happened in ``calls``."""
    # With plain-data kwargs and a str/int sender, "did anything change" is one
    # C-level dict comparison against the copy.
    quick = snapshot is not None and snapshot.all_keys and not snapshot.check_sender
    copied = snapshot.kwargs if snapshot is not None else None
    capture = session.capture
    results, extras = calls.results, calls.extras
    call, keep, timed = calls.receivers.append, results.append, calls.durations.append
    clock = perf_counter
    receivers = iter(receivers)
    for receiver in receivers:
        if capture is not None:
            capture.parts = []
        failed: BaseException | None = None
        is_async = False
        start = clock()
        try:
            result = receiver(sender, **kwargs)
            if type(result) is _COROUTINE and inspect.iscoroutinefunction(receiver):
                is_async = True
                result = session.await_(result)
        except BaseException as raised:  # recorded, never fatal
            result, failed = None, raised
        timed(clock() - start)
        call(receiver)
        keep(result)
        if snapshot is not None and (
            kwargs != copied if quick else snapshot.changed(sender, kwargs)
        ):
            _extra(extras, len(results) - 1).changes = tuple(snapshot.changes(sender, kwargs))
            snapshot.take(sender, kwargs)
            copied = snapshot.kwargs
        if failed is not None or is_async or (capture is not None and capture.parts):
            extra = _extra(extras, len(results) - 1)
            extra.exception, extra.is_async = failed, is_async
            if capture is not None and capture.parts:
                extra.output, extra.stderr, extra.logged = capture.split()
            if failed is not None and stop_on_error:
                calls.receivers.extend(receivers)  # the rest: not reached
                break


def _extra(extras: dict[int, Extra], index: int) -> Extra:
    """The rare facts of call ``index``."""
    extra = extras.get(index)
    if extra is None:
        extra = extras[index] = Extra()
    return extra


class _Capture:
    """A stdout that collects what the current receiver prints; its stderr
    (:class:`_Stream`) and its log records (:class:`_LogCapture`) go into the
    same ``parts``, tagged, so that the hot loop resets one list per receiver."""

    kind = "out"

    def __init__(self) -> None:
        self.parts: list[tuple[str, str]] = []

    def write(self, text: str) -> int:
        self.parts.append((self.kind, text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def split(self) -> tuple[str | None, str | None, str | None]:
        """What the receiver printed to stdout, to stderr, and logged (None for nothing)."""
        found: dict[str, list[str]] = {}
        for kind, text in self.parts:
            found.setdefault(kind, []).append(text)
        return tuple(  # type: ignore[return-value]
            "".join(found[kind]) if kind in found else None for kind in ("out", "err", "log"))


class _Stream:
    """A stderr whose writes go into the capture, tagged."""

    def __init__(self, capture: _Capture) -> None:
        self.capture = capture

    def write(self, text: str) -> int:
        self.capture.parts.append(("err", text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _log_capture(capture: _Capture) -> Any:
    """A logging handler (made only when logging is already imported) whose
    records go into the capture as ``LEVEL logger: message`` lines."""
    import logging

    class _LogCapture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                line = f"{record.levelname} {record.name}: {record.getMessage()}\n"
            except Exception:  # a message whose arguments do not format
                line = f"{record.levelname} {record.name}: {record.msg!r}\n"
            capture.parts.append(("log", line))

    return _LogCapture()

class _Session:
    """What a fire sets up around its receivers: the captured stdout, and an
    event loop for coroutine receivers, made at the first one."""

    def __init__(self, capture: _Capture | None) -> None:
        self.capture = capture
        self.loop: Any = None

    def await_(self, coroutine: Any) -> Any:
        """Run ``coroutine`` to completion, as ``send_async`` would await it."""
        if self.loop is None:
            import asyncio  # costs ~30 ms at start-up: only when needed

            self.loop = asyncio.new_event_loop()
        return self.loop.run_until_complete(coroutine)


@contextmanager
def _session(capture_output: bool) -> Iterator[_Session]:
    capture = _Capture() if capture_output else None
    session = _Session(capture)
    saved = sys.stdout, sys.stderr
    handler = None
    if capture is not None:
        sys.stdout, sys.stderr = capture, _Stream(capture)
        if "logging" in sys.modules:  # receivers can log only if something imported it
            import logging

            handler = _log_capture(capture)
            logging.getLogger().addHandler(handler)
    try:
        yield session
    finally:
        sys.stdout, sys.stderr = saved
        if handler is not None:
            import logging

            logging.getLogger().removeHandler(handler)
        if session.loop is not None:
            session.loop.close()


def _sender_notes(info: SignalInfo, sender: Any) -> list[str]:
    """Warn when blinker can never match ``sender`` against a sender filter."""
    notes: list[str] = []
    filtered = [s for s in info.subscriptions if s.sender.kind != "any"]
    if sender is not None and not isinstance(sender, (str, int)) and filtered:
        notes.append(
            f"sender {Sender.of(sender).repr} is a {type(sender).__name__}: blinker compares it "
            f"by identity, so it can never match the {len(filtered)} sender-filtered "
            "receiver(s); only str and int senders match by value")
    return notes
