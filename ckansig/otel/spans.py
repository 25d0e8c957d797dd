"""How the instrumentor fills its spans: which samplers drop a send's spans
anyway, which senders are few enough to be an attribute, an error's status
and event, and the keyword arguments as attributes, all redacted."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

__all__ = ["capture_arguments", "drops_unsampled_children", "low_cardinality", "mark_error"]


def drops_unsampled_children(provider: Any) -> tuple[bool, bool]:
    """Asked of the provider's sampler once (the SDK's default, ParentBased,
    drops them): then a send under an unsampled span makes no spans, which
    would record nothing anyway. Any other sampler, or none known: (False, False)."""
    sampler = getattr(provider, "sampler", None)
    if sampler is None:
        return False, False
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

    found = []
    for remote in (False, True):
        parent = trace.set_span_in_context(NonRecordingSpan(SpanContext(
            0x5EED, 0x5EED, is_remote=remote, trace_flags=TraceFlags(TraceFlags.DEFAULT))))
        try:
            decision = sampler.should_sample(parent, 0x5EED, "ckansig probe").decision
            found.append(not decision.is_recording())
        except Exception:
            found.append(False)
    return found[0], found[1]


def low_cardinality(sender: Any) -> str | None:
    """``sender``'s name when it is one of few: a CKAN action's name, a Flask
    blueprint's name, or a Flask app (its name). A user name, an id or any
    other value is left out: it would make one time series per value."""
    import sys

    if isinstance(sender, str):
        logic = sys.modules.get("ckan.logic")
        actions = getattr(logic, "_actions", None)
        if isinstance(actions, dict) and sender in actions:
            return sender
        flask = sys.modules.get("flask")
        if flask is not None and flask.has_app_context() and \
                sender in flask.current_app.blueprints:
            return sender
        return None
    flask = sys.modules.get("flask")
    if flask is not None and isinstance(sender, flask.Flask):
        return str(sender.name)
    return None


def mark_error(span: Any, error: BaseException, sender: Any, kwargs: dict[str, Any]) -> None:
    """ERROR status and an exception event, with the send's secrets hidden from
    the message and the stack trace (an error often quotes what it was given)."""
    import traceback

    from ckansig.redaction import SecretBook

    book = SecretBook()
    book.learn(sender, kwargs)
    redactor = book.redactor(True)
    message = redactor.text(str(error))
    span.record_exception(error, attributes={
        "exception.message": message,
        "exception.stacktrace": redactor.text("".join(traceback.format_exception(error)))})
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {message}"))


def capture_arguments(span: Any, kwargs: dict[str, Any]) -> None:
    """The keyword arguments as attributes, ``ckansig.kwargs.<name>``, through
    ckansig's redaction (secret-looking keys and values hidden)."""
    import json

    from ckansig.redaction import SecretBook
    from ckansig.values import jsonable

    book = SecretBook()
    book.learn(kwargs)
    redactor = book.redactor(True)
    for name, value in kwargs.items():
        text = json.dumps(jsonable(value, redactor), ensure_ascii=False, default=repr)
        span.set_attribute(f"ckansig.kwargs.{name}", text[:1000])
