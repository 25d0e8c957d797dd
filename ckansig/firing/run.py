"""Fire a signal and trace every receiver, faithful to blinker.

:func:`fire` walks ``signal.receivers_for(sender)`` exactly as
``Signal.send`` does (same receivers, same order, same sender filtering,
muting honoured) and records for each receiver what happened. By default
every receiver runs even when an earlier one raised (like Django's
``send_robust``), and the trace marks those that ``send`` would not have
reached; ``stop_on_error`` stops at the first exception, as ``send`` does.
Coroutine receivers are awaited, as ``send_async`` would.

A receiver that runs past ``timeout`` seconds is stopped where Python can
stop it (a ``SIGALRM`` raises :class:`ReceiverTimeout` in it; a coroutine is
cancelled) and the rest still run. A real Ctrl-C stops the fire:
:class:`FireInterrupted` carries the trace so far.

The loop (:func:`_call_each`) does as little as it can per receiver: the
call, two clock reads and, when asked, one comparison against a snapshot of
the arguments and two ``lseek`` calls for captured output; the timeout costs
no system call per receiver. What surrounds it,
capturing output, the alarm and running coroutines, is :class:`_Session`'s.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal as _signals
import threading
import types
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from time import perf_counter
from typing import Any, Protocol

from ckansig.firing.capture import Capture
from ckansig.firing.snapshots import Snapshot
from ckansig.firing.trace import Calls, DbChanges, Ended, Extra, ReceiverTimeout, Trace
from ckansig.isolation import CTRL_C, watching_ctrl_c
from ckansig.model import Registry, Sender, SignalInfo
from ckansig.watching.recorder import SendRecord, current_scope, record, sending

__all__ = ["FireInterrupted", "Observer", "ReceiverTimeout", "fire"]

_COROUTINE = types.CoroutineType


class FireInterrupted(KeyboardInterrupt):
    """The user pressed Ctrl-C during a fire; ``trace`` is what happened until then."""

    def __init__(self, trace: Trace) -> None:
        super().__init__("interrupted")
        self.trace = trace


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
    timeout: float | None = None,
    tree: bool = True,
) -> Trace:
    """Send ``info``'s signal from ``sender`` with ``kwargs`` and trace it.

    ``registry`` supplies provenance (plugin, how it was connected) for each
    receiver. With ``capture_output`` what receivers write to stdout and
    stderr (at the file-descriptor level) and what they log is kept in the
    trace instead of being printed. Exceptions a receiver raises,
    ``SystemExit`` and ``KeyboardInterrupt`` included, are recorded, never
    propagated. A receiver that runs past ``timeout`` seconds (None or 0:
    no limit) is stopped and recorded with status ``timeout``; the timeout
    needs the main thread (elsewhere receivers run without one). A real Ctrl-C
    raises :class:`FireInterrupted` with the trace so far. An ``observer`` is
    given the :class:`Calls` before the first receiver runs (the receiver
    running is the one at ``len(calls.results)``), and its ``db_changes`` are the trace's.
    With ``tree`` (the default) the sends receivers make are recorded too:
    each receiver's ``children``, recursively.
    """
    kwargs = dict(kwargs or {})
    signal = info.signal
    # the secrets of this send, hidden in every send it causes (its scope's book)
    scope_name, secrets = current_scope()
    secrets.learn(kwargs, sender)
    root = SendRecord(signal, sender, kwargs, False, 0.0, scope_name, secrets)
    interrupted = False
    nested: dict[int | None, list[SendRecord]] = {}
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
        # the sends receivers make are recorded, as children of this fire
        root._position = calls.results.__len__  # the receiver running is the next to finish
        sends: list[SendRecord] = []
        recording = record(sends.append) if tree else contextlib.nullcontext()
        with watching_ctrl_c(), _session(capture_output, timeout) as session, \
                recording, sending(root):
            try:
                _call_each(calls, signal.receivers_for(sender), sender, kwargs, snapshot,
                           session, stop_on_error)
            except KeyboardInterrupt:  # Ctrl-C between two receivers, in ckansig's own code
                calls.truncate()
                interrupted = True
        if sends:
            nested = _attach(calls, root, sends)
    trace = Trace(registry, info, sender, sent, calls, dry_run=dry_run,
                  stop_on_error=stop_on_error, muted=muted, notes=notes,
                  unchecked=snapshot.unchecked if snapshot is not None else (),
                  db_changes=observer.db_changes if observer is not None else None,
                  timeout=timeout or None, interrupted=interrupted, nested=nested,
                  secrets=secrets, root=root)
    if trace.interrupted:
        raise FireInterrupted(trace)
    return trace


def _attach(calls: Calls, root: SendRecord,
            sends: list[SendRecord]) -> dict[int | None, list[SendRecord]]:
    """The sends made during the fire, by parent id (only those under the fire:
    another thread's sends are not its), each top-level one also kept with
    the receiver that made it."""
    by_parent: dict[int | None, list[SendRecord]] = {}
    for rec in sorted(sends, key=lambda r: r.id):
        by_parent.setdefault(rec.parent, []).append(rec)
    under: dict[int | None, list[SendRecord]] = {}
    pending = [root.id]
    while pending:
        parent = pending.pop()
        children = by_parent.get(parent, [])
        if children:
            under[parent] = children
            for child in children:
                child.children = by_parent.get(child.id, [])
                pending.append(child.id)
    made: dict[int, list[SendRecord]] = {}
    for rec in under.get(root.id, ()):
        at = rec.via_index  # the receiver running when it was sent, by position
        if at is not None and at < len(calls.receivers):
            rec.via = calls.receivers[at]
            made.setdefault(at, []).append(rec)
    for index, records in made.items():
        _extra(calls.extras, index).sends = tuple(records)
    return under


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
    capture, alarm = session.capture, session.alarm
    # where captured output ends, asked of the two files inline (no call per receiver)
    seek, out_fd, err_fd = os.lseek, *((capture.out_fd, capture.err_fd) if capture else (0, 0))
    results, extras = calls.results, calls.extras
    call, keep, timed = calls.receivers.append, results.append, calls.durations.append
    clock = perf_counter
    receivers = iter(receivers)
    for receiver in receivers:
        failed: BaseException | None = None
        is_async = False
        start = clock()
        try:
            if alarm is not None:  # inside the try: the alarm may ring from here on
                alarm.started = start
            result = receiver(sender, **kwargs)
            if alarm is not None:
                alarm.started = None
            if type(result) is _COROUTINE and inspect.iscoroutinefunction(receiver):
                is_async = True
                result = session.await_(result, start)
        except BaseException as raised:  # recorded, never fatal
            if alarm is not None:
                alarm.started = None
            result, failed = None, raised
        timed(clock() - start)
        call(receiver)
        keep(result)
        if snapshot is not None:
            try:
                differs = kwargs != copied if quick else snapshot.changed(sender, kwargs)
            except Exception:  # a cycle, an __eq__ that raises: it changed
                differs = True
            if differs:
                _extra(extras, len(results) - 1).changes = tuple(
                    snapshot.changes(sender, kwargs))
                snapshot.take(sender, kwargs)  # what is no longer plain data: unchecked
                copied = snapshot.kwargs
                quick = snapshot.all_keys and not snapshot.check_sender
        wrote = capture is not None and (
            seek(out_fd, 0, 1) != capture.out_pos or seek(err_fd, 0, 1) != capture.err_pos
            or bool(capture.logged))
        if not (failed is not None or is_async or wrote or alarm is not None or CTRL_C.hit):
            continue  # the common case: nothing more to note
        ended: Ended | None = None
        if (alarm is not None and alarm.rang) or type(failed) is ReceiverTimeout:
            ended = "timeout"
            if alarm is not None:
                alarm.rang = False
        if CTRL_C.hit:
            ended = "interrupted"
        if failed is not None or is_async or ended or wrote:
            extra = _extra(extras, len(results) - 1)
            extra.exception, extra.is_async, extra.ended = failed, is_async, ended
            if capture is not None:
                extra.output, extra.stderr, extra.logged = capture.take()
            if ended == "interrupted" or (failed is not None and stop_on_error):
                calls.receivers.extend(receivers)  # the rest: not reached
                break


def _extra(extras: dict[int, Extra], index: int) -> Extra:
    """The rare facts of call ``index``."""
    extra = extras.get(index)
    if extra is None:
        extra = extras[index] = Extra()
    return extra


class _Alarm:
    """Stops a receiver that runs past ``timeout`` seconds: ``SIGALRM`` raises
    :class:`ReceiverTimeout` in it, and again every half second in case it
    catches that.

    No system call per receiver: the loop only notes when each receiver
    started (``started``, None between receivers). The timer is set once; when
    it rings early (the receiver it was set for is done), it is set again for
    what the running receiver has left."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started: float | None = None  # when the running receiver started
        self.rang = False  # the running receiver ran out of time
        self._previous: Any = None

    def __enter__(self) -> _Alarm:
        self._previous = _signals.signal(_signals.SIGALRM, self._ring)
        _signals.setitimer(_signals.ITIMER_REAL, self.timeout)
        return self

    def __exit__(self, *exc: object) -> None:
        _signals.setitimer(_signals.ITIMER_REAL, 0)
        _signals.signal(_signals.SIGALRM, self._previous)

    def _ring(self, signum: int, frame: Any) -> None:
        started = self.started
        left = self.timeout if started is None else self.timeout - (perf_counter() - started)
        if left > 0:  # early: the receiver the timer was set for is done
            # (at least a millisecond: a time setitimer rounds to 0 disarms the timer,
            # and the receiver running would never be stopped)
            _signals.setitimer(_signals.ITIMER_REAL, max(left, 0.001))
            return
        self.rang = True
        _signals.setitimer(_signals.ITIMER_REAL, 0.5)
        raise ReceiverTimeout(f"ran past the {self.timeout:g} s timeout")


class _Session:
    """What a fire sets up around its receivers: the output capture, the
    alarm, and an event loop for coroutine receivers, made at the first one."""

    def __init__(self, capture: Capture | None, alarm: _Alarm | None,
                 timeout: float | None) -> None:
        self.capture = capture
        self.alarm = alarm
        self.timeout = timeout
        self.loop: Any = None

    def await_(self, coroutine: Any, started: float) -> Any:
        """Run ``coroutine`` to completion, as ``send_async`` would await it;
        cancel it once the receiver has run for the timeout."""
        if self.alarm is not None:
            self.alarm.started = None  # a coroutine is awaited under its own timeout
        if self.loop is None:
            import asyncio  # costs ~30 ms at start-up: only when needed

            self.loop = asyncio.new_event_loop()
        if not self.timeout:
            return self.loop.run_until_complete(coroutine)
        import asyncio

        task = self.loop.create_task(coroutine)
        left = max(self.timeout - (perf_counter() - started), 0.0)
        self.loop.run_until_complete(asyncio.wait({task}, timeout=left))
        if not task.done():
            task.cancel()
            self.loop.run_until_complete(asyncio.wait({task}))
            if self.alarm is not None:
                self.alarm.rang = True
            raise ReceiverTimeout(f"ran past the {self.timeout:g} s timeout; cancelled")
        return task.result()


@contextmanager
def _session(capture_output: bool, timeout: float | None) -> Iterator[_Session]:
    capture = Capture() if capture_output else None
    use_alarm = bool(timeout) and hasattr(_signals, "setitimer") \
        and threading.current_thread() is threading.main_thread()
    alarm = _Alarm(float(timeout)) if use_alarm and timeout else None
    session = _Session(capture, alarm, timeout)
    try:
        if capture is not None:
            capture.start()
        if alarm is not None:
            alarm.__enter__()
        yield session
    finally:
        if alarm is not None:
            alarm.__exit__()
        if capture is not None:
            capture.close()
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
