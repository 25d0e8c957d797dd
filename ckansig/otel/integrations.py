"""What the instrumentor adds around blinker, where the libraries are in use:
rows each receiver writes (SQLAlchemy's flush events), and rq jobs that carry
the trace context from the receiver that enqueued them to the worker."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from ckansig.isolation import OWN_PATCH

__all__ = ["JOB_META", "carry_context_in_jobs", "count_flushed_rows"]

#: the rq job meta key that carries the trace context
JOB_META = "ckansig_otel"

Undo = Callable[[], None]


def count_flushed_rows(current: contextvars.ContextVar[Any]) -> list[Undo]:
    """Count the rows each receiver writes into its state's ``dbc`` (by
    operation), from SQLAlchemy's flush events: ``current`` holds the send in
    progress. Nothing without SQLAlchemy. Returns how to undo it."""
    try:
        from sqlalchemy import event
        from sqlalchemy.orm import Session
    except ImportError:
        return []
    from ckansig.watching.db_changes import flushed

    def after_flush(session: Any, flush_context: Any) -> None:
        state = current.get()
        if state is None or state.rspan is None or not state.rspan.is_recording():
            return
        counts = state.dbc if state.dbc is not None else {}
        for _, op in flushed(session):  # the rows, as call and the panel count them
            counts[op] = counts.get(op, 0) + 1
        state.dbc = counts

    event.listen(Session, "after_flush", after_flush)
    return [lambda: event.remove(Session, "after_flush", after_flush)]


def carry_context_in_jobs(tracer: Any, provider: Any, pid: int) -> list[Undo]:
    """Jobs enqueued inside a span carry its context; a job performed in a
    worker is a span of that trace, flushed (by ``provider``) before a work
    horse forked from process ``pid`` exits. Nothing without rq. Returns how
    to undo it."""
    try:
        from rq.job import Job  # type: ignore[import-not-found, unused-ignore]
        from rq.queue import Queue  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return []
    enqueue_job, perform = Queue.enqueue_job, Job.perform

    def traced_enqueue_job(queue: Any, job: Any, *args: Any, **kwargs: Any) -> Any:
        if not trace.get_current_span().get_span_context().is_valid:
            return enqueue_job(queue, job, *args, **kwargs)
        name = getattr(job, "func_name", None) or "job"
        with tracer.start_as_current_span(f"enqueue {name}", kind=SpanKind.PRODUCER,
                                          attributes={"messaging.system": "rq",
                                                      "messaging.destination.name":
                                                      str(queue.name),
                                                      "messaging.operation.type": "send"}):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            job.meta[JOB_META] = carrier
            return enqueue_job(queue, job, *args, **kwargs)

    def traced_perform(job: Any) -> Any:
        carrier = (getattr(job, "meta", None) or {}).get(JOB_META)
        parent = propagate.extract(carrier) if isinstance(carrier, dict) else None
        name = getattr(job, "func_name", None) or "job"
        try:
            with tracer.start_as_current_span(
                    f"job {name}", context=parent, kind=SpanKind.CONSUMER,
                    attributes={"messaging.system": "rq",
                                "messaging.destination.name": str(job.origin),
                                "messaging.operation.type": "process",
                                "messaging.message.id": str(job.id)}):
                return perform(job)
        finally:
            if os.getpid() != pid:  # a forked work horse: os._exit comes next
                flush = getattr(provider, "force_flush", None)
                if flush is not None:
                    flush(5000)

    for function in (traced_enqueue_job, traced_perform):
        setattr(function, OWN_PATCH, True)
    Queue.enqueue_job = traced_enqueue_job  # type: ignore[method-assign, assignment, unused-ignore]
    Job.perform = traced_perform  # type: ignore[method-assign, unused-ignore]
    return [lambda: setattr(Queue, "enqueue_job", enqueue_job),
            lambda: setattr(Job, "perform", perform)]
