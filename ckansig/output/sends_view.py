"""Send trees for people: a send, its receivers, and under each receiver the
sends it made. Every surface draws its trees here, from the one JSON shape of
a send (:mod:`ckansig.watching.jsonl`, secrets already hidden): ``fire``'s
children, ``call``'s sends, ``trace --tree`` and the pytest plugin's report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ckansig.output.terminal import clean

if TYPE_CHECKING:
    from rich.text import Text
    from rich.tree import Tree

    from ckansig.firing.trace import DbChanges

__all__ = ["add_send", "db_summary", "plain_tree", "send_label"]



def db_summary(changes: DbChanges) -> str:
    """``activity +1, package ~2, tag -1``: rows inserted, updated, deleted per table."""
    parts = []
    for table, counts in sorted(changes.items()):
        ops = [f"{sign}{counts[op]}" for sign, op in (("+", "inserted"), ("~", "updated"),
                                                     ("-", "deleted")) if counts.get(op)]
        if ops:
            parts.append(f"{table} {' '.join(ops)}")
    return ", ".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any, limit: int) -> str:
    """A JSON value of a send as the tree shows it: its repr, cut."""
    return _cut(repr(value), limit)


def send_label(send: dict[str, Any]) -> str:
    """``ckan:user_created sender='bob' kwargs={...}``."""
    key = f"{send['namespace']}:{send['signal']}" if send.get("namespace") else send["signal"]
    label = f"{key} sender={_shown(send.get('sender'), 60)}"
    if send.get("kwargs"):
        label += f" kwargs={_shown(send['kwargs'], 80)}"
    return label


def _receiver_line(receiver: dict[str, Any]) -> str:
    line = f"{receiver['receiver']}: {receiver['status']}"
    error = receiver.get("error")
    if receiver["status"] == "ok" and receiver.get("result") is not None:
        line += f" -> {_cut(str(receiver['result']), 80)}"
    elif error:
        line += f" {error['type']}: {error['message']}"
    if receiver.get("db_changes"):
        line += f"  [database: {db_summary(receiver['db_changes'])}]"
    return line


def _line(text: str, style: str) -> Text:
    """One line of a tree: plugin text made safe, cut with "…" at the width."""
    from rich.text import Text

    return Text(clean(text), style=style, no_wrap=True, overflow="ellipsis")


def add_send(node: Tree, send: dict[str, Any]) -> None:
    """Add ``send`` (a send tree as JSON) under ``node``: its receivers with
    their results (and the rows each wrote), each with the sends it made, and
    the receivers it did not call."""
    from rich.text import Text

    # a line wider than the terminal is cut with an ellipsis, never silently
    branch = node.add(_line(send_label(send), "bold cyan"))
    if not send["receivers"]:
        branch.add(Text("no receivers", style="dim"))
    for receiver in send["receivers"]:
        failed = receiver["status"] == "error"
        leaf = branch.add(_line(_receiver_line(receiver), "red" if failed else ""))
        for child in receiver.get("children", ()):
            add_send(leaf, child)
    for child in send.get("unplaced", ()):
        add_send(branch, child)
    if send.get("filtered"):
        branch.add(_line("not called (sender filter): " + ", ".join(send["filtered"]), "dim"))
    if send.get("dead"):
        branch.add(Text(f"not called: {send['dead']} dead receiver(s) (garbage-collected)",
                        style="dim"))


def plain_tree(title: str, sends: list[dict[str, Any]], width: int = 120) -> str:
    """``sends`` drawn under ``title`` as plain text (no colour), for reports."""
    import io

    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(clean(title)))
    for send in sends:
        add_send(tree, send)
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, highlight=False,
            emoji=False).print(tree)
    return buffer.getvalue()
