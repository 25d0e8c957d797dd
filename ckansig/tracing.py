"""Fire a signal and trace every receiver, faithful to blinker.

:func:`fire` walks ``signal.receivers_for(sender)`` exactly as
``Signal.send`` does (same receivers, same order, same sender filtering,
muting honoured) and records for each receiver what happened. By default
every receiver runs even when an earlier one raised (like Django's
``send_robust``), and the trace marks those that ``send`` would not have
reached; ``stop_on_error`` stops at the first exception, as ``send`` does.
Coroutine receivers are awaited, as ``send_async`` would.

The loop does as little as it can per receiver (the call, two clock reads
and, when asked, one comparison against a snapshot of the arguments): the
per-receiver records of :attr:`Trace.receivers` are built on first access.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import traceback
import types
from collections.abc import Mapping
from time import perf_counter
from typing import Any, Literal, NamedTuple

from ckansig import _blinker
from ckansig.inspection import CallableInfo, describe
from ckansig.registry import Registry, Sender, SignalInfo, Subscription
from ckansig.values import Snapshot

__all__ = ["ErrorInfo", "ReceiverTrace", "Trace", "fire"]

Status = Literal["ok", "error", "not_reached", "dry_run"]

_COROUTINE = types.CoroutineType


class ErrorInfo(NamedTuple):
    """An exception a receiver raised: its type, first line of its message,
    and the file and line in the receiver's code where it surfaced."""

    type: str
    message: str
    file: str | None
    line: int | None
    exception: BaseException


class ReceiverTrace(NamedTuple):
    """What happened to one receiver."""

    receiver: CallableInfo
    subscription: Subscription | None  # provenance from the registry, if known
    status: Status
    is_async: bool
    duration: float  # seconds
    result: Any
    error: ErrorInfo | None
    mutated: tuple[str, ...]  # paths of the arguments it changed ("user.name")
    reached_by_send: bool  # whether plain Signal.send would have called it
    output: str | None  # what it printed, when output was captured

    @property
    def mutated_keys(self) -> list[str]:
        """The top-level arguments it changed ("user" for "user.name")."""
        keys: list[str] = []
        for path in self.mutated:
            key = path.split(".", 1)[0].split("[", 1)[0]
            if key not in keys:
                keys.append(key)
        return keys


# One raw record per receiver, as the hot loop appends it:
# (receiver, status, result, exception, duration, mutated paths, is_async, output)
_Raw = tuple[Any, str, Any, "BaseException | None", float, tuple[str, ...], bool, "str | None"]


class Trace:
    """The outcome of one :func:`fire`: the signal, the arguments it was sent
    with, and a :class:`ReceiverTrace` per receiver in call order."""

    def __init__(
        self, registry: Registry | None, info: SignalInfo, sender: Any, kwargs: dict[str, Any],
        raw: list[_Raw], *, dry_run: bool, stop_on_error: bool, muted: bool,
        notes: list[str], unchecked: tuple[str, ...],
    ) -> None:
        self.registry = registry
        self.signal = info
        self.sender = sender
        self.kwargs = kwargs
        self.dry_run = dry_run
        self.stop_on_error = stop_on_error
        self.muted = muted
        self.notes = notes
        self.unchecked = unchecked  # arguments whose mutation could not be checked
        self._raw = raw
        self._receivers: list[ReceiverTrace] | None = None

    @property
    def receivers(self) -> list[ReceiverTrace]:
        if self._receivers is None:
            self._receivers = self._build()
        return self._receivers

    def _build(self) -> list[ReceiverTrace]:
        out: list[ReceiverTrace] = []
        reached = True
        signal = self.signal.signal
        for receiver, status, result, exc, duration, mutated, is_async, output in self._raw:
            sub = (self.registry.provenance(signal, _blinker.make_id(receiver))
                   if self.registry is not None else None)
            info = sub.receiver if sub is not None else describe(receiver)
            error = _error_info(exc, info) if exc is not None else None
            if is_async or (status == "dry_run" and info.is_async):
                reached = False  # send() raises RuntimeError on a coroutine function
            out.append(ReceiverTrace(info, sub, status, is_async, duration, result,  # type: ignore[arg-type]
                                     error, mutated, reached, output))
            if exc is not None:
                reached = False
        return out

    def count(self, status: Status) -> int:
        return sum(1 for r in self._raw if r[1] == status)

    @property
    def mutated(self) -> int:
        return sum(1 for r in self._raw if r[5])

    @property
    def ok(self) -> bool:
        """True when no receiver raised."""
        return not any(r[3] is not None for r in self._raw)


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
) -> Trace:
    """Send ``info``'s signal from ``sender`` with ``kwargs`` and trace it.

    ``registry`` supplies provenance (plugin, how it was connected) for each
    receiver. With ``capture_output`` what receivers print to stdout is kept
    in the trace instead of being printed. Exceptions a receiver raises,
    ``SystemExit`` and ``KeyboardInterrupt`` included, are recorded, never
    propagated.
    """
    kwargs = dict(kwargs or {})
    signal = info.signal
    notes = _sender_notes(info, sender)

    def done(raw: list[_Raw], muted: bool = False, unchecked: tuple[str, ...] = ()) -> Trace:
        return Trace(registry, info, sender, kwargs, raw, dry_run=dry_run,
                     stop_on_error=stop_on_error, muted=muted, notes=notes, unchecked=unchecked)

    if getattr(signal, "is_muted", False):
        notes.append("the signal is muted: Signal.send calls no receiver")
        return done([], muted=True)
    raw: list[_Raw] = []
    append = raw.append
    if dry_run:
        for receiver in signal.receivers_for(sender):
            append((receiver, "dry_run", None, None, 0.0, (), False, None))
        return done(raw)

    snapshot = Snapshot(sender, kwargs) if check_mutation else None
    capture = _Capture() if capture_output else None
    loop: asyncio.AbstractEventLoop | None = None
    stopped = False
    clock = perf_counter
    saved_stdout = sys.stdout
    if capture is not None:
        sys.stdout = capture
    try:
        for receiver in signal.receivers_for(sender):
            if stopped:
                append((receiver, "not_reached", None, None, 0.0, (), False, None))
                continue
            is_async = False
            exc: BaseException | None = None
            if capture is not None:
                capture.parts = []
            start = clock()
            try:
                result = receiver(sender, **kwargs)
                if type(result) is _COROUTINE and inspect.iscoroutinefunction(receiver):
                    is_async = True
                    if loop is None:
                        loop = asyncio.new_event_loop()
                    result = loop.run_until_complete(result)
            except BaseException as raised:  # recorded, never fatal
                result, exc = None, raised
            duration = clock() - start
            mutated: tuple[str, ...] = ()
            if snapshot is not None and snapshot.changed(sender, kwargs):
                mutated = tuple(snapshot.changes(sender, kwargs))
                snapshot.take(sender, kwargs)
            output = "".join(capture.parts) or None if capture is not None else None
            append((receiver, "ok" if exc is None else "error", result, exc, duration, mutated,
                    is_async, output))
            if exc is not None and stop_on_error:
                stopped = True
    finally:
        sys.stdout = saved_stdout
        if loop is not None:
            loop.close()
    unchecked = snapshot.unchecked if snapshot is not None else ()
    return done(raw, unchecked=unchecked)


class _Capture:
    """A stdout that collects what the current receiver prints."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


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


def _error_info(exc: BaseException, info: CallableInfo) -> ErrorInfo:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    own = [f for f in frames if info.file and f.filename == info.file]
    frame = (own or frames)[-1] if (own or frames) else None
    message = str(exc).strip()
    first = message.splitlines()[0] if message else ""
    return ErrorInfo(type(exc).__name__, first, frame.filename if frame else info.file,
                     frame.lineno if frame else info.line, exc)


