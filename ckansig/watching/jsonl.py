"""A send as JSON: the one shape every surface writes (``trace``'s file, one
line per send; ``fire``'s and ``call``'s trees; the panel's history), declared
in ``ckansig/schemas/send.schema.json``.

Secrets are hidden by the redactor of the send's scope
(:meth:`ckansig.redaction.SecretBook.redactor`) unless the caller gives one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ckansig.errors import first_line
from ckansig.loading.describing import describe
from ckansig.values import Redactor, jsonable, safe_repr
from ckansig.watching.records import (
    LOST,
    SendRecord,
    children_by_receiver,
    link_by,
    not_called,
)

__all__ = ["compact_json", "link_json", "read_jsonl", "record_json", "redactor_of",
           "send_tree_json"]


def redactor_of(rec: SendRecord, enabled: bool = True) -> Redactor:
    """The redactor for ``rec``: its scope's secrets (see :mod:`ckansig.redaction`)."""
    if rec.secrets is None:
        return Redactor(rec.kwargs, rec.sender, enabled=enabled)
    return rec.secrets.redactor(enabled)


def _error_json(error: BaseException | None, redactor: Redactor) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"type": type(error).__name__, "message": redactor.text(first_line(error))}


def record_json(rec: SendRecord, redactor: Redactor | None = None) -> dict[str, Any]:
    """One recorded send, without its children: a line of trace's file."""
    redactor = redactor_of(rec) if redactor is None else redactor
    receivers = []
    for outcome in rec.outcomes:
        receivers.append({
            "receiver": redactor.text(describe(outcome.receiver).name),
            "status": outcome.status,
            "duration_ms": None if outcome.duration is None else round(outcome.duration * 1000, 4),
            "result": safe_repr(outcome.result, redactor)
            if outcome.status == "ok" and outcome.result is not LOST else None,
            "error": _error_json(outcome.error, redactor),
        })
    skipped = not_called(rec.signal, rec.sender)
    return {
        "id": rec.id,
        "parent": rec.parent,
        "via_index": rec.via_index,
        "via": None if rec.via is None else describe(rec.via).name,
        "scope": None if rec.scope is None else redactor.text(rec.scope),
        "time": rec.time,
        "signal": redactor.text(rec.name),
        "namespace": rec.namespace,
        "sender": jsonable(rec.sender, redactor),
        "kwargs": jsonable(rec.kwargs, redactor),
        "async": rec.is_async,
        "duration_ms": round(rec.duration * 1000, 4),
        "receivers": receivers,
        "filtered": [describe(receiver).name for receiver in skipped.filtered],
        "dead": skipped.dead,
        "orphan": not rec.outcomes,
        "error": _error_json(rec.error, redactor),
    }


def compact_json(rec: SendRecord) -> dict[str, Any]:
    """``rec`` in the same shape, without its argument values and results
    (``"kwargs"`` absent): what the pytest plugin keeps of every send of a test."""
    redactor = redactor_of(rec)
    return {
        "id": rec.id,
        "parent": rec.parent,
        "via_index": rec.via_index,
        "scope": None,
        "signal": redactor.text(rec.name),
        "namespace": rec.namespace,
        "sender": safe_repr(rec.sender, redactor, 60) if not isinstance(rec.sender, str)
        else redactor.text(rec.sender[:60]),
        "receivers": [{"receiver": describe(outcome.receiver).name, "status": outcome.status,
                       "error": _error_json(outcome.error, redactor)}
                      for outcome in rec.outcomes],
        "orphan": not rec.outcomes,
    }


def send_tree_json(rec: SendRecord, redactor: Redactor | None = None,
                   changes: Mapping[tuple[int, int], Any] | None = None) -> dict[str, Any]:
    """``rec`` as :func:`record_json` gives it, each receiver with the sends it
    made under ``"children"``, recursively (``rec.children``, filled in by
    :func:`~ckansig.watching.records.link`); with ``changes`` (by send id and
    receiver position), each receiver's ``"db_changes"`` too. Sends no
    receiver position leads back to are under the send's ``"unplaced"``."""
    redactor = redactor_of(rec) if redactor is None else redactor
    document = record_json(rec, redactor)
    made, unplaced = children_by_receiver(rec)
    for index, (receiver, sends) in enumerate(zip(document["receivers"], made, strict=True)):
        if changes is not None:
            receiver["db_changes"] = changes.get((rec.id, index), {})
        receiver["children"] = [send_tree_json(child, redactor, changes) for child in sends]
    document["unplaced"] = [send_tree_json(child, redactor, changes) for child in unplaced]
    return document


def link_json(sends: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of trace's file as trees: each send under its parent's
    receiver at ``via_index`` (``"children"``), or in its ``"unplaced"``;
    the roots are returned, in the order written."""
    roots, children = link_by(sends, lambda s: s.get("id"), lambda s: s.get("parent"))
    for send in sends:
        receivers = send.get("receivers") or []
        for receiver in receivers:
            receiver.setdefault("children", [])
        send.setdefault("unplaced", [])
        for child in children.get(send.get("id"), ()):
            index = child.get("via_index")
            if isinstance(index, int) and 0 <= index < len(receivers):
                receivers[index]["children"].append(child)
            else:
                send["unplaced"].append(child)
    return roots


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
