"""Fire a signal and trace every receiver, faithful to blinker.

:func:`fire` walks ``signal.receivers_for(sender)`` exactly as
``Signal.send`` does (same receivers, same order, same sender filtering,
muting honoured) and records for each receiver what happened. By default
every receiver runs even when an earlier one raised (like Django's
``send_robust``), and the trace marks those that ``send`` would not have
reached; ``stop_on_error`` stops at the first exception, as ``send`` does.
Coroutine receivers are awaited, as ``send_async`` would.

The loop does as little as it can per receiver (the call, two clock reads
and, when asked, one comparison against a snapshot of the arguments): the per-receiver
fields (:meth:`Trace.columns`, :attr:`Trace.receivers`) are built when asked.
"""

from __future__ import annotations

import inspect
import operator
import sys
import types
from collections.abc import Mapping
from time import perf_counter
from typing import Any, Literal, NamedTuple

from ckansig import _blinker
from ckansig.inspection import CallableInfo, describe
from ckansig.registry import Registry, Sender, SignalInfo, Subscription
from ckansig.values import Snapshot

__all__ = ["Columns", "ErrorInfo", "ReceiverTrace", "Trace", "fire"]

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
        return top_level_keys(self.mutated)


def top_level_keys(paths: tuple[str, ...]) -> list[str]:
    """``("user.name", "user.id", "records[0]")`` → ``["user", "records"]``."""
    return list(dict.fromkeys(path.split(".", 1)[0].split("[", 1)[0] for path in paths))


_make_trace = ReceiverTrace._make
_RECEIVER_OF = operator.attrgetter("receiver")


class Columns(NamedTuple):
    """The fields of :class:`ReceiverTrace`, one list per field, in call order."""

    receiver: list[CallableInfo]
    subscription: list[Subscription | None]
    status: list[Status]
    is_async: list[bool]
    duration: list[float]
    result: list[Any]
    error: list[ErrorInfo | None]
    mutated: list[tuple[str, ...]]
    reached_by_send: list[bool]
    output: list[str | None]


class _Extra:
    """The rare facts about one call: kept apart from the hot lists."""

    __slots__ = ("exception", "is_async", "mutated", "output")

    def __init__(self) -> None:
        self.exception: BaseException | None = None
        self.is_async = False
        self.mutated: tuple[str, ...] = ()
        self.output: str | None = None


class Trace:
    """The outcome of one :func:`fire`: the signal, the arguments it was sent
    with, and a :class:`ReceiverTrace` per receiver in call order.

    The hot loop only fills parallel lists (receivers, results, durations) and
    a sparse map of rare facts; :meth:`columns` and :attr:`receivers` build the
    per-receiver fields from them when asked.
    """

    def __init__(
        self, registry: Registry | None, info: SignalInfo, sender: Any, kwargs: dict[str, Any],
        *, dry_run: bool, stop_on_error: bool, muted: bool, notes: list[str],
        unchecked: tuple[str, ...] = (), called: list[Any] | None = None,
        results: list[Any] | None = None, durations: list[float] | None = None,
        extras: dict[int, _Extra] | None = None,
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
        self._called = called or []  # every receiver, in call order (called or not)
        self._results = results or []  # one per receiver actually called
        self._durations = durations or []
        self._extras = extras or {}
        self._columns: Columns | None = None
        self._receivers: list[ReceiverTrace] | None = None

    @property
    def receivers(self) -> list[ReceiverTrace]:
        if self._receivers is None:
            self._receivers = list(map(_make_trace, zip(*self.columns(), strict=True)))
        return self._receivers

    def columns(self) -> Columns:
        """The fields of every :class:`ReceiverTrace`, one list per field: built
        with list operations (the rare facts patched in by index), for
        consumers of thousands of receivers that need no record objects."""
        if self._columns is None:
            self._columns = self._build_columns()
        return self._columns

    def _build_columns(self) -> Columns:
        called, n, ran = self._called, len(self._called), len(self._results)
        provenance = self.registry.receivers_of(self.signal.signal) if self.registry else {}
        subs = list(map(provenance.get, map(_blinker.make_id, called)))
        infos: list[CallableInfo] = [
            describe(called[i]) if sub is None else sub.receiver for i, sub in enumerate(subs)
        ] if None in subs else list(map(_RECEIVER_OF, subs))
        status: list[Status]
        if self.dry_run:
            status = ["dry_run"] * n
            is_async = [info.is_async for info in infos]
        else:
            status = ["ok"] * ran
            status += ["not_reached"] * (n - ran)
            is_async = [False] * n
        errors: list[ErrorInfo | None] = [None] * n
        mutated: list[tuple[str, ...]] = [()] * n
        output: list[str | None] = [None] * n
        cutoff = n  # Signal.send reaches receivers before this index
        for index, extra in self._extras.items():
            if extra.exception is not None:
                status[index] = "error"
                errors[index] = _error_info(extra.exception, infos[index])
                cutoff = min(cutoff, index + 1)
            if extra.is_async:
                is_async[index] = True
            mutated[index], output[index] = extra.mutated, extra.output
        if True in is_async:  # send() raises RuntimeError on a coroutine function
            cutoff = min(cutoff, is_async.index(True))
        return Columns(
            infos, subs, status, is_async,
            self._durations + [0.0] * (n - ran), self._results + [None] * (n - ran),
            errors, mutated, [True] * cutoff + [False] * (n - cutoff), output)

    @property
    def total(self) -> int:
        """How many receivers the signal had for this sender (called or not)."""
        return len(self._called)

    def count(self, status: Status) -> int:
        """How many receivers ended with ``status``."""
        if self.dry_run:
            return len(self._called) if status == "dry_run" else 0
        errors = sum(1 for e in self._extras.values() if e.exception is not None)
        return {"ok": len(self._results) - errors, "error": errors,
                "not_reached": len(self._called) - len(self._results)}.get(status, 0)

    @property
    def mutated(self) -> int:
        """How many receivers modified their arguments."""
        return sum(1 for e in self._extras.values() if e.mutated)

    @property
    def ok(self) -> bool:
        """True when no receiver raised."""
        return all(e.exception is None for e in self._extras.values())


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
    trace = Trace(registry, info, sender, kwargs, dry_run=dry_run, stop_on_error=stop_on_error,
                  muted=False, notes=notes)
    if getattr(signal, "is_muted", False):
        notes.append("the signal is muted: Signal.send calls no receiver")
        trace.muted = True
        return trace
    if dry_run:
        trace._called = list(signal.receivers_for(sender))
        return trace

    snapshot = Snapshot(sender, kwargs) if check_mutation else None
    # With plain-data kwargs and a str/int sender, "did anything change" is one
    # C-level dict comparison against the copy.
    quick = snapshot is not None and snapshot.all_keys and not snapshot.check_sender
    copied = snapshot.kwargs if snapshot is not None else None
    capture = _Capture() if capture_output else None
    loop: Any = None  # an asyncio event loop, made at the first coroutine receiver
    called: list[Any] = []
    results: list[Any] = []
    durations: list[float] = []
    extras: dict[int, _Extra] = {}
    call, keep, timed = called.append, results.append, durations.append
    clock = perf_counter
    receivers = signal.receivers_for(sender)
    saved_stdout = sys.stdout
    if capture is not None:
        sys.stdout = capture
    try:
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
                    if loop is None:
                        import asyncio  # costs ~30 ms at start-up: only when needed

                        loop = asyncio.new_event_loop()
                    result = loop.run_until_complete(result)
            except BaseException as raised:  # recorded, never fatal
                result, failed = None, raised
            timed(clock() - start)
            call(receiver)
            keep(result)
            if snapshot is not None and (
                kwargs != copied if quick else snapshot.changed(sender, kwargs)
            ):
                _extra(extras, len(results)).mutated = tuple(snapshot.changes(sender, kwargs))
                snapshot.take(sender, kwargs)
                copied = snapshot.kwargs
            if failed is not None or is_async or (capture is not None and capture.parts):
                extra = _extra(extras, len(results))
                extra.exception, extra.is_async = failed, is_async
                if capture is not None and capture.parts:
                    extra.output = "".join(capture.parts)
                if failed is not None and stop_on_error:
                    called.extend(receivers)  # the rest: not reached
                    break
    finally:
        sys.stdout = saved_stdout
        if loop is not None:
            loop.close()
    trace._called, trace._results, trace._durations, trace._extras = (
        called, results, durations, extras)
    trace.unchecked = snapshot.unchecked if snapshot is not None else ()
    return trace


def _extra(extras: dict[int, _Extra], count: int) -> _Extra:
    """The rare facts of the call just made (the ``count``-th)."""
    extra = extras.get(count - 1)
    if extra is None:
        extra = extras[count - 1] = _Extra()
    return extra


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
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    own = [f for f in frames if info.file and f.filename == info.file]
    frame = (own or frames)[-1] if (own or frames) else None
    message = str(exc).strip()
    first = message.splitlines()[0] if message else ""
    return ErrorInfo(type(exc).__name__, first, frame.filename if frame else info.file,
                     frame.lineno if frame else info.line, exc)


