"""Recorded sends (``ckansig trace``): JSON lines and the summary table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.errors import first_line
from ckansig.model import signal_key
from ckansig.output.terminal import clean, jsonable, safe_repr

if TYPE_CHECKING:
    from rich.console import Console

    from ckansig.output.redaction import Redactor
    from ckansig.watching.recorder import SendRecord


def record_json(rec: SendRecord, redactor: Redactor | None = None) -> dict[str, Any]:
    """One recorded send as a JSON line (secrets hidden unless ``redactor`` says not)."""
    from ckansig.loading.describing import describe
    from ckansig.output.redaction import Redactor

    redactor = redactor or Redactor(rec.kwargs, rec.sender)
    receivers = []
    for outcome in rec.outcomes:
        error = outcome.error
        receivers.append({
            "receiver": describe(outcome.receiver).name,
            "status": outcome.status,
            "result": safe_repr(outcome.result, redactor) if outcome.status == "ok" else None,
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
    import json

    sends = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            try:
                sends.append(json.loads(line))
            except ValueError:
                continue
    return sends


def print_trace_summary(out: Console, path: str, kept: str | None) -> None:
    """A table of the signals a traced command sent: how often, to how many
    receivers, and which receivers raised."""
    from rich.table import Table
    from rich.text import Text

    sends = read_jsonl(path)
    by_signal: dict[str, dict[str, Any]] = {}
    for send in sends:
        key = signal_key(send["namespace"], send["signal"])
        row = by_signal.setdefault(key, {"sends": 0, "calls": 0, "raised": set()})
        row["sends"] += 1
        row["calls"] += sum(1 for r in send["receivers"] if r["status"] in ("ok", "error"))
        row["raised"].update(r["receiver"] for r in send["receivers"] if r["status"] == "error")
    if not sends:
        out.print(Text("ckansig trace: no signal was sent", style="bold"))
    else:
        table = Table(title="signals sent (ckansig trace)", show_edge=False, box=None,
                      header_style="bold")
        for column in ("signal", "sends", "receiver calls", "raised"):
            table.add_column(column, overflow="fold")
        for key, row in sorted(by_signal.items(), key=lambda kv: -kv[1]["sends"]):
            raised = ", ".join(sorted(row["raised"]))
            table.add_row(Text(clean(key)), str(row["sends"]), str(row["calls"]),
                          Text(clean(raised), style="bold red") if raised else "")
        out.print(table)
    if kept:
        out.print(Text(f"{len(sends)} send(s) written to {clean(kept)}", style="dim"))
