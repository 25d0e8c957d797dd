"""``ckansig trace``'s file: one JSON line per recorded send, written by the
traced program's process and read back for the summary."""

from __future__ import annotations

import json
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
            "result": safe_repr(outcome.result, redactor)
            if outcome.status == "ok" and outcome.result is not LOST else None,
            "error": None if error is None else {
                "type": type(error).__name__,
                "message": redactor.text(first_line(error)),
            },
        })
    return {
        "time": rec.time,
        "signal": rec.name,
        "namespace": rec.namespace,
        "sender": jsonable(rec.sender, redactor),
        "kwargs": jsonable(rec.kwargs, redactor),
        "async": rec.is_async,
        "duration_ms": round(rec.duration * 1000, 4),
        "receivers": receivers,
        "error": None if rec.error is None else {
            "type": type(rec.error).__name__,
            "message": redactor.text(first_line(rec.error)),
        },
    }


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
