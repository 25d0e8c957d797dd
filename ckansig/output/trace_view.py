"""``ckansig trace``: the summary table of the sends a traced program made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.model import signal_key
from ckansig.output.terminal import clean
from ckansig.watching.jsonl import read_jsonl

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_trace_summary"]


def print_trace_summary(out: Console, path: str, kept: str | None, tree: bool = False) -> None:
    """A table of the signals a traced command sent: how often, to how many
    receivers, and which receivers raised; with ``tree``, then one tree of
    sends per scope, each send under the receiver that caused it."""
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
        if tree:
            print_send_trees(out, sends)
    if kept:
        out.print(Text(f"{len(sends)} send(s) written to {clean(kept)}", style="dim"))


def print_send_trees(out: Console, sends: list[dict[str, Any]]) -> None:
    """Each scope's sends as a tree: a send, its receivers, and under each
    receiver the sends it caused."""
    from rich.text import Text
    from rich.tree import Tree

    known = {send.get("id") for send in sends}
    children: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    scopes: dict[Any, list[dict[str, Any]]] = {}
    for send in sends:
        parent = send.get("parent")
        if parent is not None and parent in known:
            children.setdefault((parent, send.get("via")), []).append(send)
        else:
            scopes.setdefault(send.get("scope"), []).append(send)

    def add(node: Tree, send: dict[str, Any]) -> None:
        key = signal_key(send["namespace"], send["signal"])
        label = f"{key} sender={send['sender']!r}"
        if send.get("orphan"):
            label += " (no receiver)"
        branch = node.add(Text(clean(label), style="bold"))
        for receiver in send["receivers"]:
            status = receiver["status"]
            line = f"{receiver['receiver']}: {status}"
            if status == "ok" and receiver.get("result") is not None:
                line += f" -> {receiver['result']}"
            elif receiver.get("error"):
                line += f" {receiver['error']['type']}: {receiver['error']['message']}"
            sub = branch.add(Text(clean(line), style="red" if status == "error" else ""))
            for child in children.get((send.get("id"), receiver["receiver"]), ()):
                add(sub, child)
        for child in children.get((send.get("id"), None), ()):  # receiver not known
            add(branch, child)
        if send.get("filtered"):
            branch.add(Text(clean("not called (sender filter): " + ", ".join(send["filtered"])),
                            style="dim"))

    for name, roots in scopes.items():
        root = Tree(Text(clean(f"scope: {name}" if name else "outside any scope"),
                         style="bold underline"))
        for send in roots:
            add(root, send)
        out.print(root)
