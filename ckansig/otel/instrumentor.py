"""``BlinkerInstrumentor``: spans for blinker sends and their receivers, and
rq jobs that carry the trace context (see :mod:`ckansig.otel`).

Like ckansig's recorder, it wraps ``Signal.send`` (and ``send_async``), and
``Signal.receivers_for``, which ``send`` iterates lazily: the receiver span
starts as blinker is handed the receiver and ends as it asks for the next one,
so the receivers themselves, their order and the results ``send`` returns are
untouched. While a receiver runs, its span is the current span: the sends it
makes, and the rq jobs it enqueues, are its children.

Attributes follow OpenTelemetry's messaging and code conventions:
``messaging.system`` ("blinker"), ``messaging.destination.name`` (the signal,
``namespace:name``), ``messaging.operation.type`` ("send" for the send,
"process" for a receiver), ``code.function.name``, ``code.file.path`` and
``code.line.number`` (the receiver), and ckansig's own: ``ckansig.sender``
(only when it is low-cardinality: an action or blueprint name),
``ckansig.plugin``, ``ckansig.sender_filter``, ``ckansig.receivers.called``,
``ckansig.receivers.not_called`` and ``ckansig.receivers.dead``, and
``ckansig.db.*`` (rows a receiver inserted, updated and deleted, from
SQLAlchemy's flush events, when SQLAlchemy is in use). Keyword arguments are
attributes only with ``capture_arguments=True``, redacted by
:mod:`ckansig.redaction` as every other output of ckansig's is.

With no tracer provider and no meter provider configured (neither given nor
set globally), ``instrument()`` patches nothing: OpenTelemetry's no-op API
would cost every send a wrapper for nothing.
"""

from __future__ import annotations

import contextvars
import logging
import os
import time
import weakref
from collections.abc import Collection, Iterator
from typing import Any

from blinker.base import Signal
from opentelemetry import context, metrics, trace
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.trace import SpanKind

from ckansig import __version__
from ckansig.isolation import OWN_PATCH
from ckansig.otel.integrations import carry_context_in_jobs, count_flushed_rows
from ckansig.otel.spans import (
    capture_arguments,
    drops_unsampled_children,
    low_cardinality,
    mark_error,
)

__all__ = ["BlinkerInstrumentor"]

_LOG = logging.getLogger(__name__)
_SCOPE = "ckansig.otel"


class _Sending:
    """One send in progress: its span, and the receiver running now."""

    __slots__ = ("called", "ctx_token", "dbc", "iterating", "kwargs", "quiet", "receiver",
                 "rspan", "sender", "signal", "span", "started", "t0", "token")

    def __init__(self, signal: Signal, sender: Any, kwargs: dict[str, Any],
                 quiet: bool = False) -> None:
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs
        #: the send's span, started with the first receiver that is not a
        #: forward (or at the end): None until then
        self.span: Any = None
        self.ctx_token: Any = None
        self.t0 = time.time_ns()
        #: under a parent that is not sampled, whose children the sampler drops:
        #: no spans (they would record nothing), the receivers timed all the same
        self.quiet = quiet
        self.iterating = False
        self.called = 0
        self.receiver: Any = None
        self.rspan: Any = None
        self.token: Any = None
        self.started = 0.0
        self.dbc: dict[str, int] | None = None


_current: contextvars.ContextVar[_Sending | None] = contextvars.ContextVar(
    "ckansig_otel_send", default=None)


class _Described:
    """What the spans say of a receiver, worked out once per function."""

    __slots__ = ("attributes", "name")

    def __init__(self, receiver: Any) -> None:
        from ckansig.loading.describing import describe

        info = describe(receiver)
        self.name = info.name
        self.attributes: dict[str, Any] = {"code.function.name": info.name}
        if info.file:
            self.attributes["code.file.path"] = info.file
        if info.line:
            self.attributes["code.line.number"] = info.line


class _Instrumentation:
    """The patches of one ``instrument()``, undone by :meth:`undo`."""

    def __init__(self, tracer: Any, histogram: Any, provider: Any,
                 capture_arguments: bool) -> None:
        self.tracer = tracer
        self.histogram = histogram
        self.provider = provider
        self.capture_arguments = capture_arguments
        self.pid = os.getpid()
        #: whether the sampler drops the children of a parent that is not
        #: sampled, for a local parent and for a remote one
        self.drops = drops_unsampled_children(provider)
        self.keys: weakref.WeakKeyDictionary[Signal, str] = weakref.WeakKeyDictionary()
        self.described: weakref.WeakKeyDictionary[Any, _Described] = weakref.WeakKeyDictionary()
        self.undo_steps: list[Any] = []

    # -- what is said of signals, senders and receivers --------------------------------

    def key(self, signal: Signal) -> str:
        try:
            return self.keys[signal]
        except KeyError:
            from ckansig.model import signal_key
            from ckansig.watching.records import signal_identity

            key = self.keys[signal] = signal_key(*signal_identity(signal))
            return key

    def describe(self, receiver: Any) -> _Described:
        function = getattr(receiver, "__func__", receiver)
        try:
            return self.described[function]
        except KeyError:
            found = self.described[function] = _Described(receiver)
            return found
        except TypeError:  # not weakly referenceable
            return _Described(receiver)

    # -- sends -------------------------------------------------------------------------

    def start_send(self, signal: Signal, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> tuple[_Sending, Any]:
        found = trace.get_current_span().get_span_context()
        quiet = found.is_valid and not found.trace_flags.sampled and self.drops[found.is_remote]
        state = _Sending(signal, args[0] if args else kwargs.get("sender"), kwargs, quiet)
        return state, _current.set(state)

    def open_send(self, state: _Sending) -> None:
        """The send's span, from the send's start, made current: before its
        first receiver that is not a forward runs, or at the end."""
        key = self.key(state.signal)
        span = state.span = self.tracer.start_span(
            f"send {key}", kind=SpanKind.PRODUCER, start_time=state.t0, attributes={
                "messaging.system": "blinker", "messaging.destination.name": key,
                "messaging.operation.type": "send", "messaging.operation.name": "send"})
        if span.is_recording():
            name = low_cardinality(state.sender)
            if name is not None:
                span.set_attribute("ckansig.sender", name)
            if self.capture_arguments:
                capture_arguments(span, state.kwargs)
        state.ctx_token = context.attach(trace.set_span_in_context(span))

    def end_send(self, state: _Sending, token: Any, error: BaseException | None) -> None:
        """The send's span ends. A send whose receivers were all forwards
        (CKAN's of Flask's signals) makes none: the forwarded sends are the spans."""
        self.end_receiver(state, error)
        _current.reset(token)
        if state.quiet:
            return
        if state.span is None:
            if state.called and error is None:
                return  # only forwards ran
            self.open_send(state)  # none called (filtered by sender), or an error
        context.detach(state.ctx_token)
        span = state.span
        if span.is_recording():
            span.set_attribute("ckansig.receivers.called", state.called)
            from ckansig.loading.blinker_state import not_called

            filtered, dead = not_called(state.signal, state.sender)
            span.set_attribute("ckansig.receivers.not_called", len(filtered))
            span.set_attribute("ckansig.receivers.dead", dead)
            if error is not None:
                mark_error(span, error, state.sender, state.kwargs)
        span.end()

    # -- receivers ---------------------------------------------------------------------

    def start_receiver(self, state: _Sending, receiver: Any) -> None:
        state.called += 1
        if isinstance(getattr(receiver, "__self__", None), Signal):
            return  # a forward (CKAN's of Flask's signals): its send is the span
        state.receiver, state.dbc = receiver, None
        if not state.quiet:
            if state.span is None:
                self.open_send(state)
            described = self.describe(receiver)
            span = self.tracer.start_span(described.name, kind=SpanKind.CONSUMER, attributes={
                "messaging.system": "blinker", "messaging.destination.name": self.key(
                    state.signal),
                "messaging.operation.type": "process", "messaging.operation.name": "receive",
                **described.attributes})
            if span.is_recording():
                plugin = getattr(getattr(receiver, "__self__", None), "name", None)
                if isinstance(plugin, str):
                    span.set_attribute("ckansig.plugin", plugin)
                sender_filter = self.sender_filter(state.signal, receiver, state.sender)
                if sender_filter is not None:
                    span.set_attribute("ckansig.sender_filter", sender_filter)
            state.rspan = span
            state.token = context.attach(trace.set_span_in_context(span))
        state.started = time.perf_counter()

    def end_receiver(self, state: _Sending, error: BaseException | None) -> None:
        receiver = state.receiver
        if receiver is None:
            return
        elapsed = time.perf_counter() - state.started
        self.histogram.record(elapsed, {
            "messaging.system": "blinker",
            "messaging.destination.name": self.key(state.signal),
            "code.function.name": self.describe(receiver).name})
        span = state.rspan
        if span is not None:
            context.detach(state.token)
            if span.is_recording():
                for op, count in (state.dbc or {}).items():
                    span.set_attribute(f"ckansig.db.{op}", count)
                if error is not None:
                    mark_error(span, error, state.sender, state.kwargs)
            span.end()
        state.rspan = state.receiver = state.token = None

    def sender_filter(self, signal: Signal, receiver: Any, sender: Any) -> str | None:
        """``sender``, when ``receiver`` was connected for particular senders
        (not for any) and the sender's name is low-cardinality."""
        from ckansig.loading.blinker_state import ANY_ID, make_id, sender_ids_of

        try:
            ids = sender_ids_of(signal, make_id(receiver))
        except Exception:
            return None
        if not ids or ANY_ID in ids:
            return None
        return low_cardinality(sender)

    def traced(self, receivers: Iterator[Any], state: _Sending) -> Iterator[Any]:
        for receiver in receivers:
            self.end_receiver(state, None)  # the one before returned
            self.start_receiver(state, receiver)
            yield receiver
        self.end_receiver(state, None)

    # -- installing --------------------------------------------------------------------

    def install(self) -> None:
        send = Signal.send
        receivers_for = Signal.receivers_for
        me = self

        def traced_receivers_for(signal: Signal, sender: Any) -> Any:
            state = _current.get()
            if state is None or state.signal is not signal or state.iterating:
                return receivers_for(signal, sender)
            state.iterating = True
            return me.traced(iter(receivers_for(signal, sender)), state)

        def traced_send(signal: Signal, *args: Any, **kwargs: Any) -> Any:
            if not signal.receivers:  # nobody listens: no span, as blinker does nothing
                return send(signal, *args, **kwargs)
            state, token = me.start_send(signal, args, kwargs)
            try:
                results = send(signal, *args, **kwargs)
            except BaseException as exc:
                me.end_send(state, token, exc)
                raise
            me.end_send(state, token, None)
            return results

        for function in (traced_receivers_for, traced_send):
            setattr(function, OWN_PATCH, True)
        import functools

        functools.update_wrapper(traced_send, send)
        Signal.receivers_for = traced_receivers_for  # type: ignore[method-assign, assignment, unused-ignore]
        Signal.send = traced_send  # type: ignore[method-assign, assignment, unused-ignore]
        self.undo_steps.append(lambda: setattr(Signal, "receivers_for", receivers_for))
        self.undo_steps.append(lambda: setattr(Signal, "send", send))
        send_async = getattr(Signal, "send_async", None)
        if send_async is not None:  # blinker 1.7+
            async def traced_send_async(signal: Signal, *args: Any, **kwargs: Any) -> Any:
                if not signal.receivers:
                    return await send_async(signal, *args, **kwargs)
                state, token = me.start_send(signal, args, kwargs)
                try:
                    results = await send_async(signal, *args, **kwargs)
                except BaseException as exc:
                    me.end_send(state, token, exc)
                    raise
                me.end_send(state, token, None)
                return results

            setattr(traced_send_async, OWN_PATCH, True)
            functools.update_wrapper(traced_send_async, send_async)
            Signal.send_async = traced_send_async  # type: ignore[method-assign, assignment, unused-ignore]
            self.undo_steps.append(lambda: setattr(Signal, "send_async", send_async))
        from ckansig.loading.blinker_state import loaded_signals, redirect_forwards

        self.undo_steps.append(redirect_forwards(loaded_signals(), send, traced_send))
        self.undo_steps += count_flushed_rows(_current)
        self.undo_steps += carry_context_in_jobs(self.tracer, self.provider, self.pid)

    def undo(self) -> None:
        for step in reversed(self.undo_steps):
            step()
        self.undo_steps.clear()


class BlinkerInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """An OpenTelemetry instrumentor for blinker signals, as the contrib
    instrumentations are: ``BlinkerInstrumentor().instrument(tracer_provider=...,
    meter_provider=..., capture_arguments=False)`` and ``uninstrument()``."""

    _instrumentation: _Instrumentation | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("blinker >= 1.5",)

    def _instrument(self, **kwargs: Any) -> None:
        from opentelemetry.metrics import NoOpMeterProvider
        from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider

        tracer_provider = kwargs.get("tracer_provider") or trace.get_tracer_provider()
        meter_provider = kwargs.get("meter_provider") or metrics.get_meter_provider()
        tracing = not isinstance(tracer_provider, (NoOpTracerProvider, ProxyTracerProvider))
        metering = not isinstance(meter_provider, NoOpMeterProvider) and \
            type(meter_provider).__name__ != "_ProxyMeterProvider"  # the API's "none set yet"
        if not tracing and not metering:
            _LOG.info("ckansig: no OpenTelemetry tracer or meter provider is configured: "
                      "blinker signals are not instrumented")
            return
        tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider)
        histogram = meter.create_histogram(
            "messaging.process.duration", unit="s",
            description="How long each blinker receiver took, by signal and receiver.")
        instrumentation = _Instrumentation(tracer, histogram, tracer_provider,
                                           bool(kwargs.get("capture_arguments")))
        instrumentation.install()
        BlinkerInstrumentor._instrumentation = instrumentation

    def _uninstrument(self, **kwargs: Any) -> None:
        if BlinkerInstrumentor._instrumentation is not None:
            BlinkerInstrumentor._instrumentation.undo()
            BlinkerInstrumentor._instrumentation = None
