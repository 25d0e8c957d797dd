"""``ckansig trace``: the summary table of the sends a traced program made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.model import signal_key
from ckansig.output.terminal import clean
from ckansig.watching.jsonl import read_jsonl

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_trace_summary"]


def print_trace_summary(out: Console, path: str, kept: str | None) -> None:
    """A table of the signals a traced command sent: how often, to how many
    receivers, and which receivers raised."""
    from rich.table import Table
    from rich.text import Text

    try:
        sends = read_jsonl(path)
    except FileNotFoundError:
        out.print(Text(f"ckansig trace: the record file {clean(path)} was removed during the "
                       "run", style="bold red"))
        return
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
