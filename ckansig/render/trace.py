"""``ckansig fire``: a trace as JSON or as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.render.common import clean, jsonable, safe_repr, short, where

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.tracing import ReceiverTrace, Trace
    from ckansig.values import Redactor

FIRE_SCHEMA_VERSION = 1


def trace_json(trace: Trace, redactor: Redactor) -> dict[str, Any]:
    """The documented ``ckansig fire --format json`` document."""
    from ckansig.tracing import top_level_keys

    receivers = []
    # Plain rows rather than ReceiverTrace records: this loop runs per receiver.
    for info, sub, status, is_async, duration, result, error, mutated, reached, output in (
        trace.rows()
    ):
        receivers.append({
            "receiver": info.name,
            "plugin": sub.plugin if sub else None,
            "via": sub.via if sub else "unknown",
            "sender_filter": sub.sender.to_json() if sub else None,
            "file": info.file,
            "line": info.line,
            "status": status,
            "async": is_async,
            "duration_ms": round(duration * 1000, 4),
            "result": None if status != "ok" else safe_repr(result, redactor),
            "error": None if error is None else {
                "type": error.type,
                "message": redactor.text(error.message),
                "file": error.file,
                "line": error.line,
            },
            "mutated": top_level_keys(mutated) if mutated else [],
            "changes": list(mutated) if mutated else [],
            "reached_by_send": reached,
            "output": None if output is None else redactor.text(output),
        })
    return {
        "version": FIRE_SCHEMA_VERSION,
        "signal": trace.signal.name,
        "namespace": trace.signal.namespace,
        "sender": jsonable(trace.sender, redactor),
        "kwargs": jsonable(trace.kwargs, redactor),
        "dry_run": trace.dry_run,
        "stop_on_error": trace.stop_on_error,
        "muted": trace.muted,
        "notes": [redactor.text(n) for n in trace.notes],
        "unchecked": list(trace.unchecked),
        "summary": trace_summary(trace),
        "receivers": receivers,
    }


def trace_summary(trace: Trace) -> dict[str, int]:
    return {
        "receivers": len(trace.receivers),
        "ok": trace.count("ok"),
        "error": trace.count("error"),
        "not_reached": trace.count("not_reached"),
        "mutated": trace.mutated,
    }


def print_trace(out: Console, trace: Trace, redactor: Redactor) -> None:
    """``ckansig fire`` for people: a table of receivers and a summary line."""
    from rich.table import Table
    from rich.text import Text

    head = Text("fire ", style="bold")
    head.append(clean(trace.signal.key), style="bold cyan")
    head.append(f"  sender={clean(safe_repr(trace.sender, redactor, 80))}", style="yellow")
    if trace.kwargs:
        head.append(f"  kwargs={clean(safe_repr(trace.kwargs, redactor, 120))}", style="dim")
    out.print(head)
    for note in trace.notes:
        out.print(Text("note: " + clean(redactor.text(note)), style="yellow"))
    if trace.unchecked:
        out.print(Text("note: not checked for mutation (not plain data): "
                       + clean(", ".join(trace.unchecked)), style="dim"))
    if not trace.receivers:
        out.print(Text("no receivers" + (" (muted)" if trace.muted else ""), style="dim"))
    else:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        for column in ("#", "receiver", "plugin", "status", "time", "result / error"):
            table.add_column(column, overflow="fold")
        for index, r in enumerate(trace.receivers, 1):
            table.add_row(*_trace_row(index, r, redactor))
        out.print(table)
    summary = trace_summary(trace)
    line = Text(f"{summary['receivers']} receiver(s): {summary['ok']} ok, "
                f"{summary['error']} raised", style="bold")
    if summary["not_reached"]:
        line.append(f", {summary['not_reached']} not reached")
    line.append(f", {summary['mutated']} mutated")
    if trace.dry_run:
        line = Text(f"{summary['receivers']} receiver(s) would be called (dry run)", style="bold")
    out.print(line)


_STATUS_STYLE = {"ok": "green", "error": "bold red", "not_reached": "dim", "dry_run": "cyan"}


def _trace_row(index: int, r: ReceiverTrace, redactor: Redactor) -> list[Any]:
    from rich.text import Text

    name = Text(clean(r.receiver.name))
    if r.is_async:
        name.append(" async", style="magenta")
    sub = r.subscription
    if sub is not None and sub.sender.kind != "any":
        name.append(f" sender={clean(sub.sender.repr)}", style="yellow")
    status = Text(r.status, style=_STATUS_STYLE[r.status])
    if r.mutated:
        status.append(" mutated " + clean(", ".join(r.mutated)), style="bold yellow")
    if r.status == "error" and r.error is not None:
        detail = Text(clean(f"{r.error.type}: {redactor.text(r.error.message)}"), style="red")
        location = where(r.error.file, r.error.line)
        if location:
            detail.append(f" ({clean(location)})", style="dim")
    elif r.status == "ok":
        detail = Text(clean(safe_repr(r.result, redactor)))
    else:
        detail = Text("")
    if not r.reached_by_send and r.status != "not_reached":
        detail.append("  [Signal.send would not reach this]", style="dim")
    if r.output:
        detail.append("\nprinted: " + clean(short(redactor.text(r.output.rstrip()), 300)),
                      style="dim")
    time = f"{r.duration * 1000:.2f} ms" if r.status in ("ok", "error") else ""
    return [str(index), name, Text(clean(sub.plugin if sub and sub.plugin else "?")), status,
            time, detail]
