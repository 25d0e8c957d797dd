"""``ckansig fire``: a trace as JSON or as a table.

The JSON schema of a receiver is declared once, in :data:`RECEIVER_FIELDS`:
each field's key, how to encode the whole column at once (the fast path), and
the plain value of one record (the reference the tests hold the encoder to).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from json.encoder import encode_basestring as _string  # json.dumps' own, ensure_ascii=False
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ckansig.output.terminal import clean, where
from ckansig.values import jsonable, safe_repr, short

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.firing.trace import Columns, ErrorInfo, ReceiverTrace, Trace
    from ckansig.model import Sender, Subscription
    from ckansig.values import Redactor
    from ckansig.watching.recorder import SendRecord

__all__ = ["FIRE_SCHEMA_VERSION", "RECEIVER_FIELDS", "Field", "print_trace",
           "trace_json", "trace_summary"]

FIRE_SCHEMA_VERSION = 1

_T = TypeVar("_T")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)


def trace_json(trace: Trace, redactor: Redactor) -> str:
    """The documented ``ckansig fire --format json`` document, as compact JSON text."""
    root = trace.root
    head = {
        "version": FIRE_SCHEMA_VERSION,
        # the fields of every send (the published send shape; see send.schema.json)
        "id": None if root is None else root.id,
        "parent": None if root is None else root.parent,
        "via_index": None,
        "scope": None if root is None or root.scope is None else redactor.text(root.scope),
        "orphan": not trace.calls.results,
        "signal": trace.signal.name,
        "namespace": trace.signal.namespace,
        "sender": jsonable(trace.sender, redactor),
        "kwargs": jsonable(trace.kwargs, redactor),
        "dry_run": trace.dry_run,
        "stop_on_error": trace.stop_on_error,
        "muted": trace.muted,
        "timeout": trace.timeout,
        "interrupted": trace.interrupted,
        "notes": [redactor.text(n) for n in trace.notes],
        "unchecked": list(trace.unchecked),
        **_not_called(trace),
        "summary": trace_summary(trace),
    }
    if trace.database is not None:
        from ckansig.output.database_view import database_json

        head["database"] = database_json(trace.database, redactor)
    fields = ",".join(f"{_string(key)}:{_dumps(value)}" for key, value in head.items())
    return "".join(("{", fields, ',"receivers":[', ",".join(receivers_json(trace, redactor)),
                    "]}"))


class Same(NamedTuple):
    """A column whose JSON text is the same for every receiver (no error for
    any, no output for any, every status "ok"): the common case."""

    text: str


#: A field of every receiver, encoded: one text per receiver, or the same for all.
Column = Iterable[str] | Same


class Field(NamedTuple):
    """One key of a receiver's JSON object.

    ``column`` encodes the field for every receiver at once, as
    ``json.dumps(..., ensure_ascii=False)`` would encode each value; ``value``
    gives one record's value as plain data (the reference for ``column``).
    """

    key: str
    column: Callable[[Columns, Redactor], Column]
    value: Callable[[ReceiverTrace, Redactor], Any]


def receivers_json(trace: Trace, redactor: Redactor) -> Iterator[str]:
    """Each receiver of the trace as a JSON object, in call order.

    Thousands of receivers are the case to be fast for, and ``json.dumps`` of
    a dict per receiver spends most of its time re-encoding the same keys. So
    the objects are built a column at a time: repeated values are encoded
    once, the rare fields (errors, mutations, output) only for the receivers
    that have them, and a column that is the same for every receiver is
    merged with the keys around it into one piece of text. Each object is
    then one ``str.join`` of a few pieces: on 10,000 receivers, 7x faster than
    ``json.dumps`` of each receiver's dict of :attr:`Field.value`.
    """
    columns = trace.columns()
    count = len(columns.status)
    parts: list[Iterable[str]] = []
    same = ""  # the text since the last column that varies
    for prefix, field in zip(_RECEIVER_PREFIXES, RECEIVER_FIELDS, strict=True):
        column = field.column(columns, redactor)
        if type(column) is Same:
            same += prefix + column.text
        else:
            parts += (repeat(same + prefix, count), column)
            same = ""
    parts.append(repeat(same + "}", count))
    return map("".join, zip(*parts, strict=True))


_NAME, _FILE, _LINE = (attrgetter(name) for name in ("name", "file", "line"))
_BOOL = {True: "true", False: "false"}.__getitem__


def _field(subs: list[Subscription | None], name: str, default: Any = None) -> list[Any]:
    """One field of every subscription (``default`` for receivers without one)."""
    if None not in subs:
        return list(map(attrgetter(name), subs))
    return [default if sub is None else getattr(sub, name) for sub in subs]


def _each_once(values: list[_T], encode: Callable[[_T], str]) -> Column:
    """``values`` (a few distinct ones, repeated) encoded, each distinct value once."""
    if values and values.count(values[0]) == len(values):  # one value (asked in C)
        return Same(encode(values[0]))
    table = {value: encode(value) for value in set(values)}
    return map(table.__getitem__, values)


def _flags(values: list[bool]) -> Column:
    if True not in values:
        return Same("false")
    if False not in values:
        return Same("true")
    return map(_BOOL, values)


def _rare(values: list[_T], plain: _T, encode: Callable[[_T], str],
          plain_json: str) -> Column:
    """``values`` encoded where they are not ``plain`` (rare), else ``plain_json``.
    The columns share one ``plain`` object (None, or one empty tuple)."""
    if values.count(plain) == len(values):  # the common case, asked in C
        return Same(plain_json)
    encoded = [plain_json] * len(values)
    for index, value in enumerate(values):
        if value is not plain:
            encoded[index] = encode(value)
    return encoded


def _text(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _sender(sender: Sender | None) -> str:
    return "null" if sender is None else _dumps(sender.to_json())


def _integers(values: list[int | None]) -> Iterable[str]:
    if None not in values:
        return map(str, values)
    return ["null" if value is None else str(value) for value in values]


def _error_value(error: ErrorInfo | None, redactor: Redactor) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"type": error.type, "message": redactor.text(error.message), "file": error.file,
            "line": error.line}


def _results(c: Columns, redactor: Redactor) -> list[str]:
    return [_string(safe_repr(result, redactor)) if status == "ok" else "null"
            for status, result in zip(c.status, c.result, strict=True)]


def _not_called(trace: Trace) -> dict[str, Any]:
    """The receivers the fire did not call, as every send shows them: connected
    for other senders (``filtered``), or already garbage (``dead``)."""
    from ckansig.watching.records import not_called

    if trace.dry_run or trace.muted:
        return {"filtered": [], "dead": 0}
    skipped = not_called(trace.signal.signal, trace.sender)
    from ckansig.loading.describing import describe

    return {"filtered": [describe(r).name for r in skipped.filtered], "dead": skipped.dead}


def _children(sends: tuple[SendRecord, ...], redactor: Redactor) -> list[dict[str, Any]]:
    """The sends a receiver made, each with its receivers and their sends."""
    if not sends:
        return []
    from ckansig.watching.jsonl import send_tree_json

    return [send_tree_json(rec, redactor) for rec in sends]


def _sub_value(r: ReceiverTrace, name: str, default: Any = None) -> Any:
    return default if r.subscription is None else getattr(r.subscription, name)


#: The receiver object of ``ckansig fire --format json``, key by key, in order.
#: A new field is added here and in the README's schema, nowhere else.
RECEIVER_FIELDS: tuple[Field, ...] = (
    Field("receiver", lambda c, _: map(_string, map(_NAME, c.receiver)),
          lambda r, _: r.receiver.name),
    Field("plugin", lambda c, _: _each_once(_field(c.subscription, "plugin"), _text),
          lambda r, _: _sub_value(r, "plugin")),
    Field("via", lambda c, _: _each_once(_field(c.subscription, "via", "unknown"), _text),
          lambda r, _: _sub_value(r, "via", "unknown")),
    Field("sender_filter", lambda c, _: _each_once(_field(c.subscription, "sender"), _sender),
          lambda r, _: None if r.subscription is None else r.subscription.sender.to_json()),
    Field("file", lambda c, _: _each_once(list(map(_FILE, c.receiver)), _text),
          lambda r, _: r.receiver.file),
    Field("line", lambda c, _: _integers(list(map(_LINE, c.receiver))),
          lambda r, _: r.receiver.line),
    Field("status", lambda c, _: _each_once(c.status, _text), lambda r, _: r.status),
    Field("async", lambda c, _: _flags(c.is_async), lambda r, _: r.is_async),
    Field("duration_ms",  # "%.4f" of milliseconds is round(ms, 4)
          lambda c, _: map("%.4f".__mod__, map(1000.0.__mul__, c.duration)),
          lambda r, _: round(r.duration * 1000, 4)),
    Field("result", _results,
          lambda r, red: safe_repr(r.result, red) if r.status == "ok" else None),
    Field("error", lambda c, red: _rare(c.error, None, lambda e: _dumps(_error_value(e, red)),
                                        "null"),
          lambda r, red: _error_value(r.error, red)),
    Field("mutated", lambda c, _: _rare(c.mutated, (), lambda m: _dumps(list(m)), "[]"),
          lambda r, _: list(r.mutated)),
    Field("changes", lambda c, _: _rare(c.changes, (), lambda m: _dumps(list(m)), "[]"),
          lambda r, _: list(r.changes)),
    Field("reached_by_send", lambda c, _: _flags(c.reached_by_send),
          lambda r, _: r.reached_by_send),
    Field("output", lambda c, red: _rare(c.output, None, lambda o: _string(red.text(o or "")),
                                         "null"),
          lambda r, red: None if r.output is None else red.text(r.output)),
    Field("db_changes", lambda c, _: _rare(c.db_changes, None, _dumps, "null"),
          lambda r, _: r.db_changes),
    Field("stderr", lambda c, red: _rare(c.stderr, None, lambda o: _string(red.text(o or "")),
                                         "null"),
          lambda r, red: None if r.stderr is None else red.text(r.stderr)),
    Field("logged", lambda c, red: _rare(c.logged, None, lambda o: _string(red.text(o or "")),
                                         "null"),
          lambda r, red: None if r.logged is None else red.text(r.logged)),
    Field("children", lambda c, red: _rare(c.children, (), lambda s: _dumps(_children(s, red)),
                                           "[]"),
          lambda r, red: _children(r.children, red)),
)

#: What goes before each field's value in a receiver's object: ``{"receiver":``, ``,"plugin":``, ...
_RECEIVER_PREFIXES = tuple(("{" if index == 0 else ",") + _string(field.key) + ":"
                           for index, field in enumerate(RECEIVER_FIELDS))


def trace_summary(trace: Trace) -> dict[str, int]:
    """The ``summary`` object: how many receivers, and how they ended."""
    return {
        "receivers": trace.total,
        "ok": trace.count("ok"),
        "error": trace.count("error"),
        "timeout": trace.count("timeout"),
        "interrupted": trace.count("interrupted"),
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
        if len(trace.receivers) > 1:
            from ckansig.watching.records import ORDER_CAVEAT

            out.print(Text(f"({ORDER_CAVEAT})", style="dim"))
        _print_children(out, trace, redactor)
    skipped = _not_called(trace)
    if skipped["filtered"]:
        out.print(Text(clean("not called (sender filter): " + ", ".join(skipped["filtered"])),
                       style="dim"))
    if skipped["dead"]:
        out.print(Text(f"not called: {skipped['dead']} dead receiver(s) (garbage-collected)",
                       style="dim"))
    summary = trace_summary(trace)
    line = Text(f"{summary['receivers']} receiver(s): {summary['ok']} ok, "
                f"{summary['error']} raised", style="bold")
    for key, label in (("timeout", "timed out"), ("interrupted", "interrupted"),
                       ("not_reached", "not reached")):
        if summary[key]:
            line.append(f", {summary[key]} {label}")
    line.append(f", {summary['mutated']} mutated")
    if trace.dry_run:
        line = Text(f"{summary['receivers']} receiver(s) would be called (dry run)", style="bold")
    out.print(line)
    if trace.interrupted:
        out.print(Text("interrupted (Ctrl-C): the receivers after that were not called",
                       style="bold magenta"))
    if trace.database is not None:
        from ckansig.output.database_view import print_database

        print_database(out, trace.database, redactor)


def _print_children(out: Console, trace: Trace, redactor: Redactor) -> None:
    """The sends receivers made, as a tree under each receiver that made one."""
    from rich.text import Text
    from rich.tree import Tree

    from ckansig.output.sends_view import add_send

    for index, r in enumerate(trace.receivers, 1):
        if r.children:
            tree = Tree(Text(clean(f"sends made by #{index} {r.receiver.name}"), style="bold"))
            for send in _children(r.children, redactor):
                add_send(tree, send)
            out.print(tree)


_STATUS_STYLE = {"ok": "green", "error": "bold red", "timeout": "bold red",
                 "interrupted": "bold magenta", "not_reached": "dim", "dry_run": "cyan"}


def _trace_row(index: int, r: ReceiverTrace, redactor: Redactor) -> list[Any]:
    from rich.text import Text

    from ckansig.output.sends_view import db_summary

    name = Text(clean(r.receiver.name))
    if r.is_async:
        name.append(" async", style="magenta")
    sub = r.subscription
    if sub is not None and sub.sender.kind != "any":
        name.append(f" sender={clean(sub.sender.repr)}", style="yellow")
    status = Text(r.status, style=_STATUS_STYLE[r.status])
    if r.changes:
        status.append(" mutated " + clean(", ".join(r.changes)), style="bold yellow")
    if r.error is not None:
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
    if r.db_changes:
        detail.append("\ndatabase: " + clean(db_summary(r.db_changes)), style="magenta")
    for label, text in (("printed", r.output), ("stderr", r.stderr), ("logged", r.logged)):
        if text:
            detail.append(f"\n{label}: " + clean(short(redactor.text(text.rstrip()), 300)),
                          style="dim")
    time = f"{r.duration * 1000:.2f} ms" if r.status not in ("not_reached", "dry_run") else ""
    return [str(index), name, Text(clean(sub.plugin if sub and sub.plugin else "?")), status,
            time, detail]
