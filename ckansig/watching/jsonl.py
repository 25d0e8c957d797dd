"""``ckansig trace``'s file: one JSON line per recorded send, written by the
traced program's process and read back for the summary."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ckansig.errors import first_line
from ckansig.loading.describing import describe
from ckansig.values import Redactor, jsonable, safe_repr
from ckansig.watching.recorder import LOST, SendRecord

__all__ = ["read_jsonl", "record_json"]


def record_json(rec: SendRecord, redactor: Redactor | None = None) -> dict[str, Any]:
    """One recorded send as a JSON line (secrets hidden unless ``redactor`` says not)."""
    redactor = redactor or Redactor(rec.kwargs, rec.sender)
    receivers = []
    for outcome in rec.outcomes:
        error = outcome.error
        receivers.append({
            "receiver": describe(outcome.receiver).name,
            "status": outcome.status,
            "duration_ms": None if outcome.duration is None else round(outcome.duration * 1000, 4),
            "result": safe_repr(outcome.result, redactor)
            if outcome.status == "ok" and outcome.result is not LOST else None,
            "error": None if error is None else {
                "type": type(error).__name__,
                "message": redactor.text(first_line(error)),
            },
        })
    return {
        "id": rec.id,
        "parent": rec.parent,
        "via": None if rec.via is None else describe(rec.via).name,
        "scope": rec.scope,
        "time": rec.time,
        "signal": rec.name,
        "namespace": rec.namespace,
        "sender": jsonable(rec.sender, redactor),
        "kwargs": jsonable(rec.kwargs, redactor),
        "async": rec.is_async,
        "duration_ms": round(rec.duration * 1000, 4),
        "receivers": receivers,
        **_not_called(rec),
        "error": None if rec.error is None else {
            "type": type(rec.error).__name__,
            "message": redactor.text(first_line(rec.error)),
        },
    }


def send_tree_json(rec: SendRecord, redactor: Redactor,
                   changes: Mapping[tuple[int, Any], Any] | None = None) -> dict[str, Any]:
    """``rec`` as :func:`record_json` gives it, each receiver with the sends it
    made under ``"children"``, recursively (``rec.children``, filled in by fire
    and :func:`link`); with ``changes`` (by send id and receiver id), each
    receiver's ``"db_changes"`` too."""
    from ckansig.loading.blinker_state import make_id

    document = record_json(rec, redactor)
    for receiver, outcome, sends in zip(document["receivers"], rec.outcomes,
                                        children_by_receiver(rec), strict=True):
        if changes is not None:
            receiver["db_changes"] = changes.get((rec.id, make_id(outcome.receiver)), {})
        receiver["children"] = [send_tree_json(child, redactor, changes) for child in sends]
    return document


def children_by_receiver(rec: SendRecord) -> list[list[SendRecord]]:
    """The sends each receiver of ``rec`` made (in the order of ``rec.outcomes``)."""
    from ckansig.loading.blinker_state import make_id

    made: dict[Any, list[SendRecord]] = {}
    for child in rec.children or ():
        if child.via is not None:
            made.setdefault(make_id(child.via), []).append(child)
    return [made.get(make_id(outcome.receiver), []) for outcome in rec.outcomes]


def _not_called(rec: SendRecord) -> dict[str, Any]:
    """The receivers the send did not call: connected for other senders
    (``filtered``), or weakly connected and already garbage (``dead``)."""
    from ckansig.loading.blinker_state import ANY_ID, connections, sender_id

    try:
        sid = sender_id(rec.sender)
    except Exception:  # an unhashable sender: blinker could not file it either
        sid = None
    filtered, dead = [], 0
    for connection in connections(rec.signal):
        receiver = connection.ref()
        if receiver is None:
            dead += 1
        elif ANY_ID not in connection.sender_ids and sid not in connection.sender_ids:
            filtered.append(describe(receiver).name)
    return {"filtered": filtered, "dead": dead, "orphan": not rec.outcomes}


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """The sends in a ``ckansig trace`` file; a torn last line (a crash) is skipped."""
    sends = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            try:
                sends.append(json.loads(line))
            except ValueError:
                continue
    return sends


def link(records: list[SendRecord]) -> list[SendRecord]:
    """Fill in each record's ``children`` from the parent ids; return the roots
    (sends no other recorded send caused), in the order they were made."""
    ordered = sorted(records, key=lambda r: r.id)
    known = {rec.id: rec for rec in ordered}
    roots = []
    for rec in ordered:
        rec.children = []
    for rec in ordered:
        parent = known.get(rec.parent) if rec.parent is not None else None
        if parent is None:
            roots.append(rec)
        else:
            assert parent.children is not None
            parent.children.append(rec)
    return roots


def walk(records: list[SendRecord]) -> Iterator[SendRecord]:
    """Each of ``records`` and, after it, every send it caused, depth first."""
    for rec in records:
        yield rec
        yield from walk(rec.children or [])


def tree_lines(rec: SendRecord, indent: int = 0) -> list[str]:
    """``rec``, its receivers and the sends each made, as indented plain text
    (secrets hidden), for the pytest plugin's report."""
    redactor = Redactor(rec.kwargs, rec.sender)
    pad = "  " * indent
    lines = [f"{pad}{rec.key} sender={safe_repr(rec.sender, redactor, 60)}"
             + (f" kwargs={safe_repr(rec.kwargs, redactor, 80)}" if rec.kwargs else "")
             + ("" if rec.outcomes else " (no receiver)")]
    for outcome, sends in zip(rec.outcomes, children_by_receiver(rec), strict=True):
        line = f"{pad}  {describe(outcome.receiver).name}: {outcome.status}"
        if outcome.status == "ok" and outcome.result is not LOST:
            line += f" -> {safe_repr(outcome.result, redactor, 80)}"
        elif outcome.error is not None:
            line += f" {type(outcome.error).__name__}: " + redactor.text(
                first_line(outcome.error))
        lines.append(line)
        for child in sends:
            lines += tree_lines(child, indent + 2)
    return lines
