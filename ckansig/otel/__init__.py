"""OpenTelemetry instrumentation for blinker signals (ckansig's ``otel`` extra).

:class:`~ckansig.otel.instrumentor.BlinkerInstrumentor` turns every send into
a span, ``send <namespace>:<name>``, with a child span per receiver call, so a
send made inside a receiver is a child of that receiver's span, and the sends
of a request are children of the Flask instrumentation's request span. rq jobs
enqueued during a send carry the trace context, and the job's spans in the
worker join the same trace. A histogram, ``messaging.process.duration``,
times every receiver call.

It is found by ``opentelemetry-instrument`` through the
``opentelemetry_instrumentor`` entry point ``blinker``; CKAN sites that
configure OpenTelemetry in code set ``ckansig.otel = true`` in ckan.ini (with
the ``ckansig`` plugin), or call ``BlinkerInstrumentor().instrument()``.
"""

from __future__ import annotations

__all__ = ["BlinkerInstrumentor"]


def __getattr__(name: str) -> object:
    if name == "BlinkerInstrumentor":
        from ckansig.otel.instrumentor import BlinkerInstrumentor

        return BlinkerInstrumentor
    raise AttributeError(name)
