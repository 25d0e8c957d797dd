"""An OTLP/HTTP endpoint for the tests: it accepts what OpenTelemetry's OTLP
exporters post (``/v1/traces``, ``/v1/metrics``, ``/v1/logs``) and decodes
the spans and metrics with ``opentelemetry-proto``. There is no collector
binary here; this is the receiving half of one, in the test."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from .local_http import serving


@dataclass
class Span:
    """One span as received: ids in hex, attributes as Python values."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    status: int
    attributes: dict[str, Any]
    events: list[str]
    service: str


@dataclass
class Received:
    spans: list[Span] = field(default_factory=list)
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


def _decode_traces(body: bytes, found: Received) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(Span(span.name, span.trace_id.hex(), span.span_id.hex(),
                                  span.parent_span_id.hex(), span.kind, span.status.code,
                                  _attributes(span.attributes),
                                  [event.name for event in span.events],
                                  str(resource.get("service.name"))))
    with found.lock:
        found.spans.extend(spans)


def _decode_metrics(body: bytes, found: Received) -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                points = getattr(metric, kind).data_points if kind else []
                with found.lock:
                    found.metrics.setdefault(metric.name, []).extend(
                        {"attributes": _attributes(point.attributes),
                         "count": getattr(point, "count", None), "unit": metric.unit}
                        for point in points)


@contextmanager
def otlp_endpoint() -> Iterator[tuple[str, Received]]:
    """Serve on a free port of 127.0.0.1; yields the endpoint URL (for
    ``OTEL_EXPORTER_OTLP_ENDPOINT``) and what it received."""
    found = Received()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                _decode_traces(body, found)
            elif self.path == "/v1/metrics":
                _decode_metrics(body, found)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Handler) as url:
        yield url, found
