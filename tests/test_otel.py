"""Issue #26: the OpenTelemetry instrumentation, with the SDK's in-memory
exporter and metric reader (the end-to-end test over OTLP, with a real CKAN,
rq and Redis, is in tests/test_otel_e2e.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from blinker import Namespace, Signal
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import StatusCode

from ckansig.otel import BlinkerInstrumentor

space = Namespace()
outer = space.signal("fx_otel_outer")
inner = space.signal("fx_otel_inner")


class Telemetry:
    def __init__(self, sampler: Any = None) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(**({"sampler": sampler} if sampler else {}))
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def finished(self) -> dict[str, Any]:
        return {span.name: span for span in self.spans.get_finished_spans()}


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    found = Telemetry()
    BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider,
                                     meter_provider=found.meter_provider)
    try:
        yield found
    finally:
        BlinkerInstrumentor().uninstrument()


def relay(sender: Any, **kwargs: Any) -> str:
    inner.send(sender, depth=1)
    return "relayed"


def fails(sender: Any, **kwargs: Any) -> None:
    raise ValueError("bad payload")


def quiet(sender: Any, **kwargs: Any) -> str:
    return "quiet"


def relayed() -> None:
    """outer to relay, which sends inner to quiet: blinker's results unchanged."""
    outer.connect(relay)
    inner.connect(quiet)
    try:
        assert outer.send("x") == [(relay, "relayed")]
    finally:
        outer.disconnect(relay)
        inner.disconnect(quiet)


def test_spans_are_the_send_tree(telemetry: Telemetry) -> None:
    outer.connect(relay)
    inner.connect(quiet)
    try:
        results = outer.send("x", password="hunter2-secret")
    finally:
        outer.disconnect(relay)
        inner.disconnect(quiet)
    assert results == [(relay, "relayed")]  # the results are blinker's own
    spans = telemetry.finished()
    send, receiver = spans["send fx_otel_outer"], spans["tests.test_otel.relay"]
    nested, leaf = spans["send fx_otel_inner"], spans["tests.test_otel.quiet"]
    assert receiver.parent.span_id == send.context.span_id
    assert nested.parent.span_id == receiver.context.span_id  # a send inside a receiver
    assert leaf.parent.span_id == nested.context.span_id
    assert len({s.context.trace_id for s in spans.values()}) == 1
    assert send.attributes["messaging.system"] == "blinker"
    assert send.attributes["messaging.destination.name"] == "fx_otel_outer"
    assert send.attributes["messaging.operation.type"] == "send"
    assert send.attributes["ckansig.receivers.called"] == 1
    assert receiver.attributes["messaging.operation.type"] == "process"
    assert receiver.attributes["code.function.name"] == "tests.test_otel.relay"
    assert receiver.attributes["code.file.path"].endswith("test_otel.py")
    assert receiver.attributes["code.line.number"] > 0
    # keyword arguments are never attributes unless asked for; "x" is no action
    assert not any(k.startswith("ckansig.kwargs") for k in send.attributes)
    assert "ckansig.sender" not in send.attributes
    assert "hunter2-secret" not in repr([dict(s.attributes) for s in spans.values()])


def test_a_raising_receiver_has_error_status_and_an_exception_event(
        telemetry: Telemetry) -> None:
    outer.connect(fails)
    try:
        with pytest.raises(ValueError):
            outer.send("x")
    finally:
        outer.disconnect(fails)
    spans = telemetry.finished()
    receiver, send = spans["tests.test_otel.fails"], spans["send fx_otel_outer"]
    assert receiver.status.status_code is StatusCode.ERROR
    assert [event.name for event in receiver.events] == ["exception"]
    assert receiver.events[0].attributes["exception.type"] == "ValueError"
    assert send.status.status_code is StatusCode.ERROR


def test_counts_of_receivers_not_called(telemetry: Telemetry) -> None:
    signal = space.signal("fx_otel_counts")

    def for_bob(sender: Any) -> None:
        return None

    signal.connect(for_bob, sender="bob")
    signal.connect(quiet)
    try:
        signal.send("alice")
    finally:
        signal.disconnect(for_bob)
        signal.disconnect(quiet)
    send = telemetry.finished()["send fx_otel_counts"]
    assert send.attributes["ckansig.receivers.called"] == 1
    assert send.attributes["ckansig.receivers.not_called"] == 1  # for bob only
    assert send.attributes["ckansig.receivers.dead"] == 0


def test_the_histogram_times_every_receiver_call(telemetry: Telemetry) -> None:
    outer.connect(quiet)
    try:
        for _ in range(3):
            outer.send("x")
    finally:
        outer.disconnect(quiet)
    data = telemetry.reader.get_metrics_data()
    [metric] = [m for rm in data.resource_metrics for sm in rm.scope_metrics
                for m in sm.metrics if m.name == "messaging.process.duration"]
    assert metric.unit == "s"
    [point] = metric.data.data_points
    assert point.count == 3
    assert point.attributes["code.function.name"] == "tests.test_otel.quiet"
    assert point.attributes["messaging.destination.name"] == "fx_otel_outer"


def test_captured_arguments_are_redacted() -> None:
    found = Telemetry()
    BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider,
                                     meter_provider=found.meter_provider,
                                     capture_arguments=True)
    outer.connect(quiet)
    try:
        outer.send("x", password="hunter2-secret", user={"name": "bob"})
    finally:
        outer.disconnect(quiet)
        BlinkerInstrumentor().uninstrument()
    send = found.finished()["send fx_otel_outer"]
    assert send.attributes["ckansig.kwargs.user"] == '{"name": "bob"}'
    assert "hunter2" not in send.attributes["ckansig.kwargs.password"]


def test_uninstrument_puts_blinker_back_and_no_provider_patches_nothing() -> None:
    send, receivers_for = Signal.send, Signal.receivers_for
    found = Telemetry()
    BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider)
    assert Signal.send is not send
    BlinkerInstrumentor().uninstrument()
    assert Signal.send is send and Signal.receivers_for is receivers_for
    BlinkerInstrumentor().instrument()  # no provider configured anywhere: nothing to do
    try:
        assert Signal.send is send
    finally:
        BlinkerInstrumentor().uninstrument()


def test_sampled_out_sends_are_not_recorded_but_still_run() -> None:
    found = Telemetry(sampler=TraceIdRatioBased(0.0))
    BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider,
                                     meter_provider=found.meter_provider)
    try:
        relayed()
    finally:
        BlinkerInstrumentor().uninstrument()
    assert found.spans.get_finished_spans() == ()


def test_the_entry_point_names_the_instrumentor() -> None:
    from importlib.metadata import entry_points

    [point] = [p for p in entry_points(group="opentelemetry_instrumentor")
               if p.value.startswith("ckansig")]
    assert point.name == "blinker"
    assert point.load() is BlinkerInstrumentor


def test_no_span_for_a_signal_nobody_listens_to_and_none_for_a_forward(
        telemetry: Telemetry) -> None:
    lonely, source, target = (space.signal(name) for name in (
        "fx_otel_lonely", "fx_otel_source", "fx_otel_target"))
    lonely.send("x")
    source.connect(target.send)  # a forward, as CKAN's of Flask's signals
    target.connect(quiet)
    try:
        source.send("x")
    finally:
        source.disconnect(target.send)
        target.disconnect(quiet)
    spans = telemetry.finished()
    # only a forward ran in the source's send: the forwarded send is the span
    assert sorted(spans) == ["send fx_otel_target", "tests.test_otel.quiet"]
    assert spans["tests.test_otel.quiet"].parent.span_id == \
        spans["send fx_otel_target"].context.span_id


def test_a_send_that_calls_nobody_it_is_connected_for_is_a_span(telemetry: Telemetry) -> None:
    signal = space.signal("fx_otel_filtered")

    def for_bob(sender: Any) -> None:
        return None

    signal.connect(for_bob, sender="bob")
    try:
        signal.send("alice")
    finally:
        signal.disconnect(for_bob)
    send = telemetry.finished()["send fx_otel_filtered"]
    assert send.attributes["ckansig.receivers.called"] == 0
    assert send.attributes["ckansig.receivers.not_called"] == 1


def test_under_an_unsampled_parent_no_spans_but_every_receiver_is_timed() -> None:
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    found = Telemetry(sampler=ParentBased(TraceIdRatioBased(0.0)))
    BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider,
                                     meter_provider=found.meter_provider)
    tracer = found.tracer_provider.get_tracer("request")
    try:
        with tracer.start_as_current_span("request"):  # not sampled: ratio 0
            relayed()
    finally:
        BlinkerInstrumentor().uninstrument()
    assert found.spans.get_finished_spans() == ()
    data = found.reader.get_metrics_data()
    timed = sorted(point.attributes["code.function.name"] for rm in data.resource_metrics
                   for sm in rm.scope_metrics for m in sm.metrics for point in m.data.data_points)
    assert timed == ["tests.test_otel.quiet", "tests.test_otel.relay"]


def leaky(sender: Any, **kwargs: Any) -> None:
    raise ValueError(f"login refused for password {kwargs['password']}")


def test_an_error_span_holds_no_secret_of_the_send(telemetry: Telemetry) -> None:
    outer.connect(leaky)
    try:
        with pytest.raises(ValueError):
            outer.send("x", password="hunter2-secret")
    finally:
        outer.disconnect(leaky)
    for span in telemetry.spans.get_finished_spans():
        seen = repr([dict(span.attributes), [dict(e.attributes) for e in span.events],
                     span.status.description])
        assert "hunter2-secret" not in seen, span.name
    receiver = telemetry.finished()["tests.test_otel.leaky"]
    assert receiver.events[0].attributes["exception.message"] == \
        "login refused for password ***"


@pytest.mark.parametrize("recorder_first", [False, True])
def test_with_the_recorder_on_too_both_see_every_send(recorder_first: bool) -> None:
    """Two surfaces at once (the panel's recorder and the spans), in either
    order of installing: both see the tree, and blinker's results are its own."""
    from ckansig.watching.recorder import record
    from ckansig.watching.records import link

    found = Telemetry()
    records: list[Any] = []
    with record(records.append) if recorder_first else _nothing():
        BlinkerInstrumentor().instrument(tracer_provider=found.tracer_provider,
                                         meter_provider=found.meter_provider)
        try:
            with _nothing() if recorder_first else record(records.append):
                relayed()
        finally:
            BlinkerInstrumentor().uninstrument()
    [root] = link(records)
    assert [o.status for o in root.outcomes] == ["ok"]
    assert [child.name for child in root.children or []] == ["fx_otel_inner"]
    spans = found.finished()
    assert spans["send fx_otel_inner"].parent.span_id == \
        spans["tests.test_otel.relay"].context.span_id


def _nothing() -> Any:
    import contextlib

    return contextlib.nullcontext()
