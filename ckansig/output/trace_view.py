"""``ckansig trace``: the summary table of the sends a traced program made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.model import signal_key
from ckansig.output.terminal import clean
from ckansig.watching.jsonl import read_jsonl

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_trace_summary"]


def print_trace_summary(out: Console, path: str, kept: str | None, tree: bool = False,
                        pattern: str | None = None) -> None:
    """A table of the signals a traced command sent: how often, to how many
    receivers, and which receivers raised; with ``tree``, then one tree of
    sends per scope, each send under the receiver that caused it. ``pattern``
    is ``--signal``'s: with it, no send means that none matched."""
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
    if not sends and pattern:
        out.print(Text(clean(f"ckansig trace: no send matched --signal {pattern!r} (sends of "
                             "other signals are not recorded with --signal)"), style="bold"))
    elif not sends:
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
        if tree:
            print_send_trees(out, sends)
    if kept:
        out.print(Text(f"{len(sends)} send(s) written to {clean(kept)}", style="dim"))


def print_send_trees(out: Console, sends: list[dict[str, Any]]) -> None:
    """Each scope's sends as a tree: a send, its receivers, and under each
    receiver the sends it caused (linked by position, as every tree is)."""
    from rich.text import Text
    from rich.tree import Tree

    from ckansig.output.sends_view import add_send
    from ckansig.watching.jsonl import link_json
    from ckansig.watching.records import ORDER_CAVEAT

    scopes: dict[Any, list[dict[str, Any]]] = {}
    for send in link_json(sends):
        scopes.setdefault(send.get("scope"), []).append(send)
    for name, roots in scopes.items():
        root = Tree(Text(clean(f"scope: {name}" if name else "outside any scope"),
                         style="bold underline"))
        for send in roots:
            add_send(root, send)
        out.print(root)
    if scopes:
        out.print(Text(f"({ORDER_CAVEAT})", style="dim"))
